"""Simulation-based calibration of ``ci-sim calibrate`` (Talts et al. 2018), small.

Twenty fits, each on synthetic targets the model produced at a parameter value drawn from
the prior (plus the observation error the fit's kernel assumes; see
:mod:`ci_sim.studies.calibration.sbc`), must hold the truth in their central 90% interval
in at least 15 of 20 fits (a calibrated method fails this with probability 1.1%,
Binomial(20, 0.9)) and in their central 50% interval in 5 to 15 of 20 (probability 1.2%
outside). The same check applied to a mis-specified fit, whose kernel claims a quarter of
the error the data carry, must fail: the method's check can tell a right posterior from a
wrong one. Everything is seeded, so the outcome is the same on every run.
``benchmarks/bench_calibration_coverage.py`` runs a larger version.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_sim.studies.calibration import sbc
from ci_sim.studies.calibration.targets import load_plan

#: One parameter, one cheap statistic: the outcome after two years of 8 organizations on
#: one seed per fit (about 5 ms a run).
TARGETS = """
name = "sbc"
scenario = "collective_impact"
years = 2

[set]
"organizations.count" = 8

[seeds]
base = 1
replicates = 1
check_base = 2
abc = 5

[budget]
particles = 30
generations = 8
evaluations = 2000
min_acceptance = 0.02
checks = 0

[runs.ci]

[parameters."problem.responsiveness"]
low = 0.02
high = 0.12

[[patterns]]
name = "outcome_year_2"
statistic = "value"
run = "ci"
year = 2
target = 0.35
tolerance = 0.01
"""

FITS, SEED = 20, 2026


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("sbc") / "sbc.toml"
    path.write_text(TARGETS)
    return load_plan(path)


def passes(table) -> bool:
    """The coverage check: 90% intervals hold the truth in at least 75% of fits, 50%
    intervals in 25% to 75%."""
    return table["in_90"].mean() >= 0.75 and 0.25 <= table["in_50"].mean() <= 0.75


@pytest.mark.slow
def test_posteriors_cover_the_truth_at_their_nominal_rate(base):
    table = sbc.coverage(base, FITS, SEED)
    assert table["reached_zero"].all(), "every fit reached the exact posterior (threshold 0)"
    assert table["width_90"].mean() < 0.5 * (0.12 - 0.02), "and it is informative"
    assert passes(table), table[["truth", "quantile", "in_50", "in_90"]]


@pytest.mark.slow
def test_a_mis_specified_fit_fails_the_same_check(base):
    table = sbc.coverage(base, FITS // 2, SEED, kernel_scale=0.25)
    assert not passes(table)
    assert table["in_90"].mean() <= 0.5, table[["truth", "quantile", "in_90"]]


def test_sbc_refuses_patterns_without_a_target(tmp_path):
    path = Path(tmp_path) / "bounds.toml"
    path.write_text(TARGETS.replace("target = 0.35", "at_least = 0.35"))
    with pytest.raises(ValueError, match="target and a tolerance"):
        sbc.coverage(load_plan(path), 1, SEED)
