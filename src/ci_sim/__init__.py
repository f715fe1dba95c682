"""ci-sim: agent-based simulation of Collective Impact.

Organizations from five sectors work on a population problem in isolation, as a coalition,
or as a collective impact initiative with a backbone. See ``docs/ODD.md`` for the model.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ci-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+source"
