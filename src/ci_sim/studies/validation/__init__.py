"""Validation by docking: ci-sim reproduces published agent-based results with its own
mechanisms (see :mod:`ci_sim.studies.validation.study` for the approach).

:mod:`~ci_sim.studies.validation.study` plans an experiment's grid into the study layer,
:mod:`~ci_sim.studies.validation.experiments` holds the published experiments with their
checks and figures, :mod:`~ci_sim.studies.validation.report` runs them and writes
validation.md.
"""

from ci_sim.studies.validation.experiments import EXPERIMENTS
from ci_sim.studies.validation.report import FILES, validate
from ci_sim.studies.validation.study import (Experiment, Results, precision_line,
                                             run_experiment, table, verdict)

__all__ = ["EXPERIMENTS", "FILES", "Experiment", "Results", "precision_line", "run_experiment",
           "table", "validate", "verdict"]
