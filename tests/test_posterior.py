"""``--posterior FILE``: parametric uncertainty carried into every command's results.

A posterior file is checked (bad ones refused in one line, exit 2, nothing written); the
draws depend on the base seed and the replicate alone, so they are the same on every
executor, in every command and for every scenario, lever setting and sample point of one
replicate; explicit values win over the draws; a one-particle posterior is ``--set``; a
wide posterior widens the intervals; resumes refuse to mix posteriors."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.errors import InputError
from ci_sim.parquet import field_description, provenance, read_metadata, write_parquet
from ci_sim.simulate import replicate_seeds, run
from ci_sim.studies.posterior import (DRAW_COLUMN, load_posterior, scenario_names,
                                      with_parameters)
from ci_sim.studies.stats import half_width

runner = CliRunner()
#: A small run: 20 organizations, one year, four replicates.
SMALL = ["--years", "1", "--replicates", "4", "--set", "organizations.count=20"]
#: What the fixture posteriors say produced them (as a calibration's file would).
MADE_BY = {"command": "ci-sim calibrate", "method": "test fixture"}


def invoke(*args) -> object:
    return runner.invoke(app, [str(arg) for arg in args], terminal_width=200)


def ok(result):
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def write_posterior(path: Path, columns: dict, weights=None) -> Path:
    """A posterior file as ``ci-sim calibrate`` writes one: a column per parameter and
    ``weight``, through :func:`ci_sim.parquet.write_parquet` with provenance."""
    frame = pd.DataFrame(columns)
    if weights is None:
        weights = np.full(len(frame), 1.0 / max(len(frame), 1))
    frame["weight"] = weights
    write_parquet(frame, path, provenance(seed=17, **MADE_BY))
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("posterior")


@pytest.fixture(scope="module")
def plausible(folder) -> Path:
    """Three parameters spread around their defaults, unequal weights."""
    rng = np.random.default_rng(5)
    count = 60
    weights = rng.uniform(0.2, 1.0, count)
    return write_posterior(folder / "plausible.parquet", {
        "conditions.setup_cost": rng.uniform(0.15, 0.45, count),
        "problem.trend_sd": rng.uniform(0.01, 0.05, count),
        "organizations.adjust_months": rng.integers(3, 10, count).astype(float),
    }, weights / weights.sum())


def timeseries(out: Path) -> pd.DataFrame:
    return pd.read_parquet(out / "timeseries.parquet")


# ---------------------------------------------------------------------------- bad files
BAD_FILES = {
    "no weight column": ({"conditions.setup_cost": [0.3, 0.4]}, None,
                         ["no 'weight' column", "conditions.setup_cost"]),
    "negative weight": ({"conditions.setup_cost": [0.3, 0.4]}, [1.0, -0.5],
                        ["'weight'", "row 1", "-0.5", ">= 0"]),
    "weight not a number": ({"conditions.setup_cost": [0.3, 0.4]}, [np.nan, 1.0],
                            ["'weight'", "row 0", "nan"]),
    "every weight 0": ({"conditions.setup_cost": [0.3, 0.4]}, [0.0, 0.0],
                       ["'weight'", "every weight is 0"]),
    "unknown column": ({"conditions.setup_cots": [0.3, 0.4]}, [0.5, 0.5],
                       ["column", "conditions.setup_cots", "conditions.setup_cost"]),
    "value out of range": ({"conditions.setup_cost": [0.3, 1.4]}, [0.5, 0.5],
                           ["'conditions.setup_cost'", "row 1", "1.4", "0 to 0.9"]),
    "value not a number": ({"trust.build_rate": [0.03, np.inf]}, [0.5, 0.5],
                           ["'trust.build_rate'", "row 1", "inf", "finite"]),
    "whole-number parameter": ({"conditions.working_group_size": [8.0, 7.5]}, [0.5, 0.5],
                               ["'conditions.working_group_size'", "row 1", "7.5", "whole"]),
    "not a number parameter": ({"learning.network": ["linear", "full"]}, [0.5, 0.5],
                               ["'learning.network'", "small_world", "number"]),
    "text in a number column": ({"conditions.setup_cost": ["low", "high"]}, [0.5, 0.5],
                                ["'conditions.setup_cost'", "must hold numbers"]),
    "the horizon": ({"years": [5.0, 6.0]}, [0.5, 0.5], ["'years'", "--years"]),
    "no particles": ({"conditions.setup_cost": np.array([], dtype=float)},
                     np.array([], dtype=float), ["no particles"]),
    "only weights": ({}, [1.0], ["no parameter columns"]),
    "a combination the model refuses": ({"problem.strategy_bits": [4.0]}, [1.0],
                                        ["row 0", "problem.interdependence", "strategy_bits"]),
}


def assert_refused(result, *fragments: str) -> str:
    """Exit code 2, one line on stderr naming ``fragments``, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_posterior_is_refused_in_one_line_before_anything_is_written(case, tmp_path):
    columns, weights, fragments = BAD_FILES[case]
    frame = pd.DataFrame({**columns, **({} if weights is None else {"weight": weights})})
    path = tmp_path / "posterior.parquet"
    write_parquet(frame, path, provenance(seed=None))
    out = tmp_path / "out"
    result = invoke("run", *SMALL, "--posterior", path, "--out", out)
    assert_refused(result, "--posterior", str(path), *fragments)
    assert not out.exists()


def test_a_missing_or_foreign_file_is_refused(tmp_path):
    out = tmp_path / "out"
    missing = tmp_path / "nowhere.parquet"
    assert_refused(invoke("run", *SMALL, "--posterior", missing, "--out", out),
                   str(missing), "file not found")
    text = tmp_path / "posterior.parquet"
    text.write_text("particle,weight\n0,1\n")
    assert_refused(invoke("run", *SMALL, "--posterior", text, "--out", out),
                   str(text), "not a Parquet file")
    assert_refused(invoke("run", *SMALL, "--posterior", tmp_path, "--out", out),
                   str(tmp_path), "cannot read")
    assert not out.exists()


def test_every_command_checks_the_posterior_before_writing(tmp_path):
    bad = write_posterior(tmp_path / "bad.parquet", {"conditions.setup_cost": [0.3, 0.4]},
                          [1.0, -1.0])
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(SWEEP)
    commands = {
        "compare": ["compare", "collective_impact", "isolated_impact", *SMALL],
        "sweep": ["sweep", experiment, "--workers", "1"],
        "stress-test": ["stress-test", *STRESS, "--workers", "1"],
    }
    for name, arguments in commands.items():
        out = tmp_path / name
        assert_refused(invoke(*arguments, "--posterior", bad, "--out", out), str(bad),
                       "'weight'", "row 1")
        assert not out.exists(), name
    # a test function has no model parameters to draw
    good = write_posterior(tmp_path / "good.parquet", {"conditions.setup_cost": [0.3, 0.4]})
    ishigami = tmp_path / "ishigami.toml"
    ishigami.write_text('name = "ishigami"\ntarget = "ishigami"\nmethod = "latin"\n'
                        'samples = 8\n[parameters]\nx1 = [-3.14, 3.14]\nx2 = [-3.14, 3.14]\n'
                        'x3 = [-3.14, 3.14]\n[outputs]\ny = { metric = "y" }\n')
    out = tmp_path / "ishigami"
    assert_refused(invoke("sweep", ishigami, "--workers", "1", "--posterior", good,
                          "--out", out), "--posterior", "ishigami", "test function")
    assert not out.exists()
    # an experiment that varies every parameter the posterior fits draws nothing
    varies = tmp_path / "varies.toml"
    varies.write_text(SWEEP.replace('"conditions.common_agenda" = [0.0, 1.0]',
                                    '"conditions.setup_cost" = [0.0, 0.9]'))
    assert_refused(invoke("sweep", varies, "--workers", "1", "--posterior", good,
                          "--out", out), str(good), "conditions.setup_cost",
                   "nothing would be drawn")
    assert not out.exists()


def test_a_posterior_whose_every_parameter_is_set_explicitly_is_refused(tmp_path):
    path = write_posterior(tmp_path / "one.parquet", {"conditions.setup_cost": [0.5]})
    out = tmp_path / "out"
    assert_refused(invoke("run", *SMALL, "--set", "conditions.setup_cost=0.2",
                          "--posterior", path, "--out", out),
                   str(path), "conditions.setup_cost", "set explicitly", "nothing would be drawn")
    # isolated_impact's file sets conditions.common_agenda: its value stays, nothing is drawn
    agenda = write_posterior(tmp_path / "agenda.parquet", {"conditions.common_agenda": [0.5]})
    assert_refused(invoke("run", "isolated_impact", *SMALL, "--posterior", agenda,
                          "--out", out), "conditions.common_agenda", "nothing would be drawn")
    assert not out.exists()


# ---------------------------------------------------------------------------- draws
def test_draws_follow_the_weights_and_depend_on_the_seed_and_replicate_alone(tmp_path):
    path = write_posterior(tmp_path / "four.parquet",
                           {"conditions.setup_cost": [0.1, 0.2, 0.3, 0.4]},
                           [0.7, 0.2, 0.0, 0.1])
    posterior = load_posterior(path)
    draws = posterior.draws(seed=3, replicates=4000)
    shares = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(shares, [0.7, 0.2, 0.0, 0.1], atol=0.025)
    assert shares[2] == 0  # a particle of weight 0 is never drawn
    # The same seed, the same draws, however many replicates; another seed, others.
    assert load_posterior(path).draws(3, 40) == draws[:40]
    assert posterior.draws(4, 40) != draws[:40]
    assert [posterior.draw(3, replicate) for replicate in (39, 7)] == [draws[39], draws[7]]
    # Unnormalized weights are the same posterior
    scaled = write_posterior(tmp_path / "scaled.parquet",
                             {"conditions.setup_cost": [0.1, 0.2, 0.3, 0.4]},
                             [7.0, 2.0, 0.0, 1.0])
    assert load_posterior(scaled).draws(3, 500) == draws[:500]


def test_a_run_records_the_file_its_hash_the_draws_and_where_the_posterior_came_from(
        plausible, tmp_path):
    out = tmp_path / "out"
    result = ok(invoke("run", *SMALL, "--seed", "8", "--posterior", plausible, "--out", out))
    assert "plausible.parquet" in result.stdout
    frame = timeseries(out)
    assert list(frame.columns[:4]) == ["scenario", "replicate", "seed", DRAW_COLUMN]
    draws = load_posterior(plausible).draws(8, 4)
    assert frame.groupby("replicate")[DRAW_COLUMN].agg(["min", "max"]).to_numpy().tolist() == \
        [[draw, draw] for draw in draws]
    metadata = read_metadata(out / "timeseries.parquet")
    record = metadata["provenance"]["posterior"]
    assert record["file"] == "plausible.parquet"
    assert record["sha256"] == hashlib.sha256(plausible.read_bytes()).hexdigest()
    assert record["draws"] == draws and record["seed"] == 8 and record["particles"] == 60
    assert record["applied"] == ["conditions.setup_cost", "problem.trend_sd",
                                 "organizations.adjust_months"] and record["kept"] == []
    assert record["source"]["command"] == MADE_BY["command"] and record["source"]["seed"] == 17
    assert metadata["fields"][DRAW_COLUMN] == field_description(DRAW_COLUMN)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["posterior"] == record
    assert "posterior" in summary["interval"]["method"]
    # Each replicate ran on its seed and on the parameters of its draw.
    posterior = load_posterior(plausible)
    scenario = with_parameters(load_scenario_small(), posterior.particle(draws[2]), "draw")
    rerun = run(scenario, replicate_seeds(8, 4)[2])
    np.testing.assert_array_equal(frame[frame["replicate"] == 2]["outcome"].to_numpy(),
                                  rerun["outcome"].to_numpy())


def load_scenario_small():
    from ci_sim.model.scenarios import load_scenario

    return load_scenario(None, {"years": 1.0, "organizations.count": 20})[0]


def test_draws_are_the_same_in_process_and_on_a_process_pool(plausible, tmp_path):
    here, pool = tmp_path / "here", tmp_path / "pool"
    ok(invoke("run", *SMALL, "--posterior", plausible, "--workers", "1", "--out", here))
    ok(invoke("run", *SMALL, "--posterior", plausible, "--workers", "2", "--out", pool))
    pd.testing.assert_frame_equal(timeseries(here), timeseries(pool), check_exact=True)
    assert timeseries(here)[DRAW_COLUMN].nunique() > 1


def test_scenarios_compared_run_replicate_r_on_the_same_draw(plausible, tmp_path):
    one, other = tmp_path / "ci", tmp_path / "isolated"
    ok(invoke("run", "collective_impact", *SMALL, "--posterior", plausible, "--out", one))
    ok(invoke("run", "isolated_impact", *SMALL, "--posterior", plausible, "--out", other))
    draws = timeseries(one).groupby("replicate")[DRAW_COLUMN].first()
    assert draws.tolist() == timeseries(other).groupby("replicate")[DRAW_COLUMN].first().tolist()
    assert draws.nunique() > 1
    out = tmp_path / "compare"
    result = ok(invoke("compare", "collective_impact", "isolated_impact", *SMALL,
                       "--posterior", plausible, "--out", out))
    assert "plausible.parquet" in result.stdout
    table = pd.read_csv(out / "compare.csv")
    assert (table["posterior"] == "plausible.parquet").all()
    assert (table["posterior_sha256"] ==
            hashlib.sha256(plausible.read_bytes()).hexdigest()).all()
    # compare gives each scenario what `run` gives it: the same seeds and the same draws
    for name, folder in (("collective_impact", one), ("isolated_impact", other)):
        summary = json.loads((folder / "summary.json").read_text())
        rows = table[table["scenario"] == name].set_index("metric")
        for metric in ("outcome", "mean_trust", "agenda_alignment"):
            assert rows.loc[metric, "mean"] == pytest.approx(
                summary["final"][metric]["mean"], rel=1e-12, abs=1e-12), (name, metric)


# ---------------------------------------------------------------------------- explicit
def test_a_one_particle_posterior_gives_the_results_of_set(tmp_path):
    path = write_posterior(tmp_path / "one.parquet", {"conditions.setup_cost": [0.55]})
    drawn, given = tmp_path / "drawn", tmp_path / "given"
    ok(invoke("run", *SMALL, "--posterior", path, "--out", drawn))
    ok(invoke("run", *SMALL, "--set", "conditions.setup_cost=0.55", "--out", given))
    frame = timeseries(drawn)
    assert (frame[DRAW_COLUMN] == 0).all()
    pd.testing.assert_frame_equal(frame.drop(columns=DRAW_COLUMN), timeseries(given),
                                  check_exact=True)
    default = tmp_path / "default"
    ok(invoke("run", *SMALL, "--out", default))
    assert not np.array_equal(timeseries(default)["outcome"], frame["outcome"])


def test_explicit_values_win_over_the_draws(tmp_path):
    path = write_posterior(tmp_path / "two.parquet", {"conditions.setup_cost": [0.55],
                                                      "problem.trend_sd": [0.07]})
    drawn, given = tmp_path / "drawn", tmp_path / "given"
    ok(invoke("run", *SMALL, "--set", "conditions.setup_cost=0.1", "--posterior", path,
              "--out", drawn))
    ok(invoke("run", *SMALL, "--set", "conditions.setup_cost=0.1", "--set",
              "problem.trend_sd=0.07", "--out", given))
    pd.testing.assert_frame_equal(timeseries(drawn).drop(columns=DRAW_COLUMN),
                                  timeseries(given), check_exact=True)
    record = json.loads((drawn / "summary.json").read_text())["posterior"]
    assert record["applied"] == ["problem.trend_sd"] and record["kept"] == ["conditions.setup_cost"]


def test_what_a_compared_scenario_sets_keeps_its_value(tmp_path):
    """isolated_impact sets conditions.common_agenda = 0: a posterior of common_agenda
    changes collective_impact, not isolated_impact."""
    assert "conditions.common_agenda" in scenario_names("isolated_impact")
    assert "conditions.common_agenda" not in scenario_names("collective_impact")
    path = write_posterior(tmp_path / "agenda.parquet", {"conditions.common_agenda": [0.3]})
    plain, drawn = tmp_path / "plain", tmp_path / "drawn"
    names = ["collective_impact", "isolated_impact"]
    ok(invoke("compare", *names, *SMALL, "--out", plain))
    ok(invoke("compare", *names, *SMALL, "--posterior", path, "--out", drawn))
    before = pd.read_csv(plain / "compare.csv").set_index(["scenario", "metric"])
    after = pd.read_csv(drawn / "compare.csv").set_index(["scenario", "metric"])
    assert after.loc[("isolated_impact", "agenda_alignment"), "mean"] == \
        before.loc[("isolated_impact", "agenda_alignment"), "mean"]
    assert after.loc[("collective_impact", "agenda_alignment"), "mean"] != \
        before.loc[("collective_impact", "agenda_alignment"), "mean"]


# ---------------------------------------------------------------------------- intervals
def test_a_wide_posterior_widens_the_interval_against_seeds_alone(tmp_path):
    count = 40
    wide = write_posterior(tmp_path / "wide.parquet",
                           {"problem.baseline": np.linspace(0.1, 0.6, count)})
    options = ["--years", "1", "--replicates", "6", "--set", "organizations.count=20",
               "--seed", "3"]
    seeds, drawn = tmp_path / "seeds", tmp_path / "drawn"
    ok(invoke("run", *options, "--out", seeds))
    ok(invoke("run", *options, "--posterior", wide, "--out", drawn))
    final = {name: timeseries(out).groupby("replicate")["outcome"].last()
             for name, out in (("seeds", seeds), ("drawn", drawn))}
    assert half_width(final["drawn"]) > 2 * half_width(final["seeds"])
    summary = json.loads((drawn / "summary.json").read_text())["final"]["outcome"]
    assert (summary["high"] - summary["low"]) / 2 == pytest.approx(half_width(final["drawn"]))


# ---------------------------------------------------------------------------- studies
SWEEP = """
name = "tiny"
scenario = "collective_impact"
years = 1
method = "latin"
samples = 3
replicates = 3
seed = 8

[constants]
"organizations.count" = 20

[uncertainties]
"conditions.common_agenda" = [0.0, 1.0]

[outputs]
outcome = { metric = "outcome", year = 1 }
"""

STRESS = ["--shares", "0,0.1,0.2", "--replicates", "3", "--years", "2", "--shock", "none",
          "--shock", "backbone_cut:1", "--samples", "0", "--set", "organizations.count=20"]


def test_a_sweep_draws_per_replicate_as_run_does_and_records_it(plausible, tmp_path):
    from ci_sim.studies.sweep import run_sweep

    experiment = tmp_path / "experiment.toml"
    experiment.write_text(SWEEP)
    here = run_sweep(experiment, tmp_path / "here", workers=1, posterior=plausible)
    runs = here.runs
    assert list(runs.columns[:4]) == ["sample", "replicate", "seed", DRAW_COLUMN]
    by_replicate = runs.pivot(index="sample", columns="replicate", values=DRAW_COLUMN)
    assert (by_replicate.nunique() == 1).all()  # every sample point, the same draw
    draws = by_replicate.iloc[0].tolist()
    # ... the draws `ci-sim run --seed 8` makes
    assert draws == load_posterior(plausible).draws(8, 3)
    ok(invoke("run", *SMALL, "--seed", "8", "--posterior", plausible, "--out", tmp_path / "run"))
    assert timeseries(tmp_path / "run").groupby("replicate")[DRAW_COLUMN].first().tolist()[:3] \
        == draws
    metadata = read_metadata(tmp_path / "here" / "runs.parquet")
    assert metadata["provenance"]["posterior"]["draws"] == draws
    assert metadata["fields"][DRAW_COLUMN]["meaning"]
    indices = pd.read_csv(tmp_path / "here" / "indices.csv")
    assert (indices["posterior"] == "plausible.parquet").all()
    assert json.loads((tmp_path / "here" / "summary.json").read_text())["posterior"]["draws"] \
        == draws
    pool = run_sweep(experiment, tmp_path / "pool", workers=2, posterior=plausible)
    pd.testing.assert_frame_equal(pool.runs, runs)
    plain = run_sweep(experiment, tmp_path / "plain", workers=1)
    assert DRAW_COLUMN not in plain.runs and not plain.runs["outcome"].equals(runs["outcome"])


def test_a_sweep_resumes_only_with_the_posterior_it_started_with(plausible, tmp_path):
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(SWEEP)
    other = write_posterior(tmp_path / "other.parquet", {"conditions.setup_cost": [0.2, 0.6]})
    drawn, plain = tmp_path / "drawn", tmp_path / "plain"
    ok(invoke("sweep", experiment, "--workers", "1", "--posterior", plausible, "--out", drawn))
    ok(invoke("sweep", experiment, "--workers", "1", "--out", plain))
    before = {path.name: path.read_bytes() for path in drawn.iterdir() if path.is_file()}
    for folder, posterior, fragments in (
            (drawn, [], ["started with --posterior plausible.parquet", "without --posterior"]),
            (drawn, ["--posterior", other], ["plausible.parquet", "other.parquet"]),
            (plain, ["--posterior", plausible], ["started without --posterior",
                                                 "plausible.parquet"])):
        result = invoke("sweep", experiment, "--workers", "1", "--resume", *posterior,
                        "--out", folder)
        assert_refused(result, "--resume", "--posterior", *fragments)
    assert {path.name: path.read_bytes() for path in drawn.iterdir() if path.is_file()} == before
    ok(invoke("sweep", experiment, "--workers", "1", "--resume", "--posterior", plausible,
              "--out", drawn))
    assert (drawn / "runs.parquet").read_bytes() == before["runs.parquet"]
    analyzed = ok(invoke("analyze", drawn))
    assert "indices.csv" in analyzed.stdout
    assert (pd.read_csv(drawn / "indices.csv")["posterior"] == "plausible.parquet").all()


@pytest.fixture(scope="module")
def stressed(plausible, folder):
    from ci_sim.studies.stress import load_experiment, run_stress_test

    experiment = load_experiment(None, shares="0,0.1,0.2", replicates=3, years=2.0,
                                 shocks=["none", "backbone_cut:1"], samples=0,
                                 set={"organizations.count": 20})
    out = folder / "stress"
    result, _ = run_stress_test(experiment, out, workers=1, posterior=plausible)
    return experiment, result, out


def test_a_stress_test_runs_every_share_and_situation_of_a_replicate_on_one_draw(
        stressed, plausible):
    _, result, _ = stressed
    draws = result.plan.draws
    assert draws.indices(3) == load_posterior(plausible).draws(0, 3)
    posterior = load_posterior(plausible)
    for world, setting, replicate in ((0, 0, 0), (1, 2, 1), (0, 1, 2)):
        scenario = with_parameters(result.plan.scenarios[world][setting],
                                   posterior.particle(draws.index(replicate)), "draw")
        np.testing.assert_array_equal(result.outcome[world, setting, replicate],
                                      run(scenario, result.plan.seeds[replicate])["outcome"])


def test_a_stress_test_records_the_posterior_and_says_its_intervals_include_it(
        stressed, plausible):
    _, result, out = stressed
    digest = hashlib.sha256(plausible.read_bytes()).hexdigest()
    record = json.loads((out / "stress.json").read_text())["posterior"]
    assert record["file"] == "plausible.parquet" and record["sha256"] == digest
    assert record["draws"] == result.plan.draws.indices(3)
    for name in ("stress.csv", "robustness.csv"):
        table = pd.read_csv(out / name)
        assert (table["posterior"] == "plausible.parquet").all(), name
        assert (table["posterior_sha256"] == digest).all(), name
    html = (out / "report.html").read_text()
    first_screen = html[:html.index("<h2>")]
    assert "include parametric uncertainty" in first_screen
    assert "plausible.parquet" in first_screen and digest[:16] in first_screen


def test_a_stress_test_draws_the_same_on_a_process_pool(stressed, plausible):
    from ci_sim.studies.stress.study import stress_test

    experiment, result, _ = stressed
    again = stress_test(experiment, workers=2, posterior=load_posterior(plausible))
    np.testing.assert_array_equal(again.outcome, result.outcome)
    assert again.optima == result.optima


def test_an_interrupted_stress_test_resumes_only_with_its_posterior(stressed, plausible,
                                                                     tmp_path):
    from ci_sim.studies.stress import run_stress_test

    experiment, result, _ = stressed
    out = tmp_path / "out"

    class Stop(Exception):
        pass

    def stop(done: int, total: int) -> None:
        if done > 0:
            raise Stop

    with pytest.raises(Stop):
        run_stress_test(experiment, out, workers=1, posterior=plausible, progress=stop)
    assert (tmp_path / ".out.checkpoint").is_dir() and not out.exists()
    with pytest.raises(InputError, match=re.escape("started with --posterior "
                                                   "plausible.parquet")):
        run_stress_test(experiment, out, workers=1, resume=True)
    resumed, _ = run_stress_test(experiment, out, workers=1, resume=True, posterior=plausible)
    assert 0 < resumed.ran < result.outcome[..., 0].size
    np.testing.assert_array_equal(resumed.outcome, result.outcome)


def test_docs_describe_the_draw_column_and_the_option():
    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "outputs.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]*) \|", text, flags=re.MULTILINE))
    assert documented[DRAW_COLUMN].strip() == field_description(DRAW_COLUMN)["unit"]
    for command in ("run", "compare", "sweep", "stress-test"):
        help_text = invoke(command, "--help").stdout
        assert "--posterior" in help_text and "weight" in help_text, command


def test_the_hand_made_posterior_of_the_docs_is_a_valid_posterior(tmp_path, monkeypatch):
    page = (Path(__file__).resolve().parents[1] / "docs" / "posterior.md").read_text()
    block = next(code for code in re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
                 if "write_parquet" in code)
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "posterior.md", "exec"), {})
    posterior = load_posterior(tmp_path / "posterior.parquet")
    assert posterior.particles == 500 and posterior.source["command"] == "hand-made posterior"
    assert posterior.names == ("backbone.half_staff", "backbone.max_effect",
                               "problem.responsiveness")
