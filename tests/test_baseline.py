"""Seeded regression baseline: the model's numbers change only on purpose.

A failure here means a change altered the trajectories. If that was intended, refresh the
baseline explicitly with ``python tests/baseline/refresh.py`` and say why in the commit.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent / "baseline"
spec = importlib.util.spec_from_file_location("refresh", HERE / "refresh.py")
refresh = importlib.util.module_from_spec(spec)
spec.loader.exec_module(refresh)

RECORD = json.loads(refresh.BASELINE.read_text())


def test_baseline_covers_every_case():
    expected = {f"{n}/{p}/{s}" for n in refresh.SCENARIOS for p in refresh.PROBLEMS
                for s in refresh.SEEDS}
    assert set(RECORD["cases"]) == expected


@pytest.fixture(scope="module")
def current():
    return refresh.compute()


@pytest.mark.parametrize("case", sorted(RECORD["cases"]))
def test_trajectories_match_the_baseline(case, current):
    # Tolerance allows for last-digit differences of libm across platforms, nothing more.
    for metric, values in RECORD["cases"][case].items():
        np.testing.assert_allclose(current[case][metric], values, rtol=1e-7, atol=1e-9,
                                   err_msg=f"{case}: {metric}")
