"""docs/python.md stays true: every Python block runs, in order, at a small size (fewer
samples, seeds, organizations and years than the page shows), with the library versions of
this environment (Mesa 3.3 takes ``iterations`` where 3.4+ takes ``rng``; EMA Workbench 2.5's
PRIM needs a threshold)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import matplotlib
import mesa
import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "python.md"

#: The page's sizes and their small stand-ins; each must occur on the page.
SMALLER = {"scenarios=200, policies=4": "scenarios=6, policies=2",
           "scenarios=20)": "scenarios=2)",
           "range(1, 6)": "range(1, 3)",
           "sample_sobol(256": "sample_sobol(8",
           "years=5": "years=1",
           'Constant("years", 5.0)': 'Constant("years", 1.0)',
           "count=60": "count=20",
           'Constant("organizations_count", 40)': 'Constant("organizations_count", 20)'}


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)


def test_every_python_block_of_the_page_runs():
    from ema_workbench.analysis import prim

    matplotlib.use("Agg")
    text = "\n".join(blocks())
    assert all(size in text for size in SMALLER), [s for s in SMALLER if s not in text]
    namespace: dict = {}
    for number, block in enumerate(blocks()):
        for size, small in SMALLER.items():
            block = block.replace(size, small)
        if "rng" not in inspect.signature(mesa.batch_run).parameters:
            block = block.replace("rng=[None] * 5,", "iterations=2,")
        if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
            block = block.replace("prim.Prim(x, y)", "prim.Prim(x, y, threshold=0.8)")
        try:
            exec(compile(block, f"{PAGE.name} block {number}", "exec"), namespace)
        except Exception as error:  # noqa: BLE001 - report which block failed
            pytest.fail(f"{PAGE.name} block {number}: {type(error).__name__}: {error}")
    assert namespace["outcomes"]["outcome_path"].shape == (2, 13)
    assert 0 < namespace["box"].coverage <= 1
    assert len(namespace["problem"].analysis["ST"]) == 2
