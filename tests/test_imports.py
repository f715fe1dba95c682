"""Start-up: heavy libraries are imported only where a command or function needs them.

Each check runs in a fresh interpreter (``sys.modules`` of this one holds everything the
other tests imported) and lists which of the heavy modules got imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Libraries that take tens to hundreds of milliseconds to import.
HEAVY = ("scipy", "scipy.stats", "matplotlib", "pandas", "networkx", "mesa", "numba",
         "solara", "starlette", "uvicorn", "dask", "distributed", "SALib", "sklearn",
         "pyarrow", "pyabc")

#: Needed by no run of a scenario: the statistics take their t quantile from scipy.special
#: (which Mesa imports anyway); the others belong to one command each.
NOT_FOR_A_RUN = ("scipy.stats", "solara", "starlette", "uvicorn", "dask", "distributed",
                 "SALib", "sklearn", "pyabc")


def imported_after(code: str) -> list[str]:
    """The HEAVY modules in sys.modules after running ``code`` in a fresh interpreter."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    path = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    finished = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              timeout=300, env={**os.environ, "PYTHONPATH": path})
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["ci_sim", "ci_sim.cli", "ci_sim.model",
                                    "ci_sim.model.scenarios", "ci_sim.model.params",
                                    "ci_sim.studies.stats"])
def test_light_modules_import_no_heavy_library(module):
    assert imported_after(f"import {module}") == []


def test_public_names_still_resolve_lazily():
    assert imported_after("import ci_sim\nci_sim.InputError\nci_sim.Scenario") == []
    code = ("from ci_sim.model import CollectiveImpactModel, GATEWAYS, load_scenario\n"
            "assert CollectiveImpactModel.__name__ == 'CollectiveImpactModel'")
    assert "mesa" in imported_after(code)


def test_a_run_imports_only_what_it_uses(tmp_path):
    code = ("from ci_sim.cli import app\n"
            "try:\n"
            f"    app(['run', '--years', '0.25', '--replicates', '2', '--engine', 'python',"
            f" '--out', {str(tmp_path / 'run')!r}])\n"
            "except SystemExit as exit:\n"
            "    assert exit.code == 0, exit.code\n")
    loaded = imported_after(code)
    assert (tmp_path / "run" / "outcome.png").exists()
    assert {"mesa", "matplotlib", "pyarrow"} <= set(loaded)
    assert not set(loaded) & set(NOT_FOR_A_RUN), loaded


def test_t_quantiles_are_scipy_stats_bit_for_bit():
    from scipy import stats as scipy_stats

    from ci_sim.studies import stats

    for count in (2, 3, 5, 10, 20, 30, 100, 1000):
        for level in (0.8, 0.9, 0.95, 0.99):
            assert stats.t_quantile(count, level) == scipy_stats.t.ppf(0.5 + level / 2,
                                                                       count - 1)
    for df in (1.3, 7.77, 45.5):
        assert stats.student_quantile(0.975, df) == scipy_stats.t.ppf(0.975, df)
    assert stats.normal_quantile(0.975) == scipy_stats.norm.ppf(0.975)
