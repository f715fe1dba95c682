"""The defaults of params.py lie at the centre of the shipped calibration's posterior.

``src/ci_sim/builtin/calibration/`` holds the summary of the fit of
``experiments/calibration.toml`` (the full fit takes about half an hour, too long for the
test suite); ``python docs/gen_calibration.py`` regenerates it on the current model. Each
fitted parameter's default must lie in its posterior's central 50% interval. The summary
must come from the targets file as it is now (its sha256 is recorded in the shipped
posterior), and docs/calibration.md must show it. A default the fit places outside is set
to the posterior median (params.py cites it as FITTED), then
``python docs/gen_calibration.py --recheck`` redoes the summary and the predictive check.
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from ci_sim.model.params import describe
from ci_sim.parquet import read_metadata
from ci_sim.studies.calibration.targets import load_plan
from ci_sim.studies.loading import study_file

SHIPPED = Path(str(resources.files("ci_sim.builtin").joinpath("calibration")))
SUMMARY = SHIPPED / "summary.csv"
ROOT = Path(__file__).resolve().parents[1]

def shipped() -> pd.DataFrame:
    if not SUMMARY.exists():
        pytest.skip(f"no shipped calibration summary ({SUMMARY}); regenerate it with "
                    f"python docs/gen_calibration.py")
    return pd.read_csv(SUMMARY).set_index("parameter")


@pytest.mark.parametrize("name", load_plan("calibration").names)
def test_the_default_lies_in_the_posterior_s_central_half(name):
    row = shipped().loc[name]
    default = describe(name)["default"]
    assert row["p25"] <= default <= row["p75"], (
        f"{name}: default {default:g}, posterior median {row['median']:.4g}, central 50% "
        f"{row['p25']:.4g} to {row['p75']:.4g}")


def test_the_shipped_fit_is_of_the_current_targets_file():
    table = shipped()
    plan = load_plan("calibration")
    assert list(table.index) == list(plan.names)
    provenance = read_metadata(SHIPPED / "posterior.parquet")["provenance"]
    assert provenance["targets"]["sha256"] == hashlib.sha256(plan.path.read_bytes()).hexdigest(), \
        "experiments/calibration.toml changed since the fit: python docs/gen_calibration.py"
    posterior = pd.read_parquet(SHIPPED / "posterior.parquet")
    assert list(posterior.columns) == [*plan.names, "weight"]
    assert posterior["weight"].sum() == pytest.approx(1.0)


def test_the_documentation_shows_the_shipped_fit():
    shipped()
    finished = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_calibration.py"),
                               "--check"], capture_output=True, text=True)
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_the_stability_fits_change_only_their_seeds_or_budget():
    """``gen_calibration.py --stability`` fits variants of the shipped targets file: each
    must read as the same targets with only the named seeds or budget changed."""
    spec = importlib.util.spec_from_file_location("gen_calibration",
                                                  ROOT / "docs" / "gen_calibration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = study_file("calibration").read_text(encoding="utf-8")
    original = tomllib.loads(text)
    for changes in module.VARIANTS.values():
        assert set(changes) <= {"seeds", "budget"}
        changed = tomllib.loads(module.with_changes(text, changes))
        assert changed == {**original, **{table: {**original[table], **values}
                                          for table, values in changes.items()}}
    with pytest.raises(SystemExit, match="one 'rate ='"):
        module.with_changes(text, {"seeds": {"rate": 1}})
