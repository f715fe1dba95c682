"""Slide figures: takeaways computed from the runs, files written with their provenance."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from ci_sim import __version__
from ci_sim.cli import app
from ci_sim.figures import make_figures, takeaway
from ci_sim.presets import get_preset
from ci_sim.simulate import replicate_seeds


def synthetic_runs(before: list[float], after: list[float]) -> dict[str, pd.DataFrame]:
    """Final-step frames with the given outcomes, one replicate each."""
    def frame(values):
        return pd.DataFrame({"replicate": range(len(values)), "step": 120, "year": 10.0,
                             "outcome": values})
    return {"before": frame(before), "after": frame(after)}


def test_takeaway_states_the_computed_direction_and_size():
    preset = get_preset("isolated_vs_collective")
    higher = takeaway(preset, synthetic_runs([0.40, 0.42, 0.41], [0.61, 0.63, 0.62]))
    assert higher["title"] == ("Collective impact: population outcome ends 0.21 higher than "
                               "with isolated impact after 10 years")
    lower = takeaway(preset, synthetic_runs([0.61, 0.63, 0.62], [0.40, 0.42, 0.41]))
    assert "0.21 lower" in lower["title"]
    unclear = takeaway(preset, synthetic_runs([0.40, 0.60, 0.50], [0.60, 0.40, 0.51]))
    assert "no clear difference" in unclear["title"]
    assert unclear["difference"]["low"] < 0 < unclear["difference"]["high"]
    small = takeaway(preset, synthetic_runs([0.400, 0.402, 0.401], [0.409, 0.411, 0.410]))
    assert small["title"].endswith("after 10 years, a small effect in this model")
    assert small["small"] and not higher["small"]


def test_make_figures_writes_slides_animation_and_provenance(tmp_path):
    preset = get_preset("credit_hoarded_vs_shared")
    entries = make_figures([preset], tmp_path, seed=3, replicates=3, frame_months=24)
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == sorted(["figures.json", f"{preset.name}.png", f"{preset.name}.gif",
                            f"{preset.name}_network.png"])
    slide = Image.open(tmp_path / f"{preset.name}.png")
    assert slide.size == (1920, 1080)
    assert slide.info["Title"] == entries[0]["title"]
    gif = Image.open(tmp_path / f"{preset.name}.gif")
    assert gif.n_frames == 120 // 24 + 1
    manifest = json.loads((tmp_path / "figures.json").read_text())
    assert manifest["ci_sim"] == __version__
    entry = manifest["figures"][0]
    assert entry["replicate_seeds"] == replicate_seeds(3, 3)
    assert entry["metric"] == preset.headline
    stated = float(re.search(r"ends ([0-9.e-]+) (higher|lower)", entry["title"]).group(1))
    assert stated == pytest.approx(abs(entry["difference"]["mean"]), rel=0.05)


def test_figures_command_all_or_one_and_bad_preset(tmp_path):
    runner = CliRunner()
    bad = runner.invoke(app, ["figures", "--preset", "nope", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert "unknown preset 'nope'" in bad.output and "Traceback" not in bad.output
    assert not (tmp_path / "bad").exists()
    good = runner.invoke(app, ["figures", "--preset", "simple_problem", "--replicates", "2",
                               "--out", str(tmp_path / "good")])
    assert good.exit_code == 0, good.output
    assert "simple_problem" in good.output
    assert (tmp_path / "good" / "simple_problem.gif").exists()
    assert not list((tmp_path / "good").glob(".*partial*"))

