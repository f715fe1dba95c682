"""Validation experiments: fast versions of the dockings, the mapping onto March's rates,
the equilibrium rule, executors and the ``ci-sim validate`` command.

The fast versions use fewer runs and fewer grid points than ``ci-sim validate``, but the
same scenario files, model and checks: each fails when the mechanism it docks is broken.
"""

from __future__ import annotations

import dataclasses
import inspect
import types

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.engines import engine
from ci_sim import kernels
from ci_sim.executors import make_executor
from ci_sim.model import CollectiveImpactModel
from ci_sim.scenarios import InputError, load_scenario
from ci_sim.validation import (EXPERIMENTS, at_equilibrium, check_closed_system, run_experiment,
                               scenario_path, table, validate, verdict)


def spy_kernels(model: CollectiveImpactModel, calls: dict[str, list]) -> None:
    """Record the rates the model passes to the learning kernels, then run the real ones."""
    real = engine(model.engine_name)

    def socialize(beliefs, code, rate, draw):
        calls["socialization"].append(np.array(rate))
        return real.socialize(beliefs, code, rate, draw)

    def learn_agenda(code, beliefs, score, code_score, seen, rate, draw):
        calls["agenda"].append((rate, np.array(seen)))
        return real.learn_agenda(code, beliefs, score, code_score, seen, rate, draw)

    def learn_from_peers(*args):
        bound = inspect.signature(kernels.learn_from_peers).bind(*args).arguments
        calls["peers"].append(tuple(bound[name] for name in (
            "communication", "measurement", "imitation_rate", "exploration_rate")))
        return real.learn_from_peers(*args)

    model.kernels = types.SimpleNamespace(**{**vars(real), "socialize": socialize,
                                             "learn_agenda": learn_agenda,
                                             "learn_from_peers": learn_from_peers})


@pytest.mark.parametrize("p1, p2", [(0.1, 0.9), (0.5, 0.5), (0.9, 0.1)])
def test_march_settings_give_p1_and_p2_exactly_from_the_first_period(p1, p2):
    scenario, _ = load_scenario(scenario_path("march1991_learning_rates"),
                                {"learning.socialization_rate": p1,
                                 "learning.agenda_learning_rate": p2})
    model = CollectiveImpactModel(scenario, rng=3)
    calls = {"socialization": [], "agenda": [], "peers": []}
    spy_kernels(model, calls)
    for _ in range(5):
        model.step()
    for rate in calls["socialization"]:
        assert np.all(rate == p1)
    for rate, seen in calls["agenda"]:
        assert rate == p2
        assert seen.all()  # every member's results are seen: the superior group is complete
    for communication, measurement, imitation, exploration in calls["peers"]:
        assert communication == 0 and imitation == 0 and exploration == 0
        assert measurement == 1


def test_lazer_friedman_settings_see_and_meet_every_neighbour():
    scenario, _ = load_scenario(scenario_path("lazer_friedman2007"))
    model = CollectiveImpactModel(scenario, rng=3)
    calls = {"socialization": [], "agenda": [], "peers": []}
    spy_kernels(model, calls)
    for _ in range(3):
        model.step()
    assert all(call == (1.0, 1.0, 1.0, 1.0) for call in calls["peers"])
    assert all(np.all(rate == 0) for rate in calls["socialization"])  # no agenda to follow
    assert model.met.sum() == model.degree.sum()


@pytest.mark.parametrize("p1, p2", [(0.9, 0.9), (0.3, 0.5)])
def test_equilibrium_is_absorbing(p1, p2):
    """Once at_equilibrium holds, further periods change neither the code nor the members."""
    scenario, _ = load_scenario(scenario_path("march1991_learning_rates"),
                                {"learning.socialization_rate": p1,
                                 "learning.agenda_learning_rate": p2})
    stopped = 0
    for seed in range(4):
        model = CollectiveImpactModel(scenario, rng=seed)
        for _ in range(120):
            model.step()
            if at_equilibrium(model):
                break
        if not at_equilibrium(model):
            continue
        stopped += 1
        code, beliefs = model.code.copy(), model.beliefs.copy()
        knowledge = model.metrics["agenda_knowledge"]
        for _ in range(30):
            model.step()
        assert np.array_equal(model.code, code) and np.array_equal(model.beliefs, beliefs)
        assert model.metrics["agenda_knowledge"] == knowledge
    assert stopped > 0


def test_equilibrium_rule_refuses_open_systems():
    scenario, _ = load_scenario(scenario_path("march1991_turnover"))
    with pytest.raises(ValueError, match="closed system"):
        check_closed_system(scenario)


def small(name: str, grid: dict, runs: int, **changes):
    return dataclasses.replace(EXPERIMENTS[name], grid=grid, runs=runs, **changes)


def test_march_fast_version_shows_the_figure_1_pattern():
    experiment = small("march1991_learning_rates",
                       {"learning.agenda_learning_rate": (0.1, 0.9),
                        "learning.socialization_rate": (0.1, 0.9)}, runs=40)
    results = run_experiment(experiment, runs=40)
    assert results.passed, verdict(results)
    frame = table(results)
    assert (frame["runs"] == 40).all() and (frame["base_seed"] == results.base_seed).all()


def test_march_turnover_fast_version_helps_fast_socialization():
    experiment = small("march1991_turnover",
                       {"learning.socialization_rate": (0.1, 0.9),
                        "learning.turnover": (0.0, 0.02)}, runs=30)
    results = run_experiment(experiment, runs=30)
    assert results.passed, verdict(results)


def test_lazer_friedman_fast_version_full_early_linear_late():
    experiment = small("lazer_friedman2007", {"learning.network": ("linear", "full")}, runs=16)
    results = run_experiment(experiment, runs=16)
    assert results.passed, verdict(results)


def test_trust_ratio_is_the_negativity_bias_at_trust_one_half():
    """At trust 0.5 a violation removes bias x build rate x 0.5, a good meeting adds
    build rate x 0.5 (doubled with the relationships mindset): the ratio is the bias."""
    experiment = EXPERIMENTS["trust_asymmetry"]
    for bias in (3.0, 5.0):
        results = run_experiment(experiment, runs=4, overrides={"trust.negativity_bias": bias,
                                                                "years": 0.5})
        assert results.passed, verdict(results)
        first = results.checks[0].measured
        assert f"ratio {bias:.2f}" in first
        assert f"ratio {bias / 2:.2f}" in results.checks[1].measured


def test_trust_check_fails_when_violations_do_not_hurt_more():
    results = run_experiment(EXPERIMENTS["trust_asymmetry"], runs=3,
                             overrides={"trust.negativity_bias": 1.0, "years": 0.5})
    assert not results.checks[1].passed  # relationships 1: violations now do less harm


def test_adaptive_runs_reach_the_precision_target_or_the_cap():
    experiment = small("march1991_learning_rates",
                       {"learning.agenda_learning_rate": (0.9,),
                        "learning.socialization_rate": (0.1, 0.9)}, runs=10,
                       precision=0.04, max_runs=60)
    results = run_experiment(experiment, overrides={"problem.strategy_bits": 12})
    frame = table(results)
    assert ((frame["half_width"] <= 0.04) | (frame["runs"] == 60)).all()
    assert (frame["runs"] > 10).any()


def test_results_do_not_depend_on_the_executor():
    experiment = small("march1991_turnover", {"learning.socialization_rate": (0.5,),
                                              "learning.turnover": (0.0, 0.02)}, runs=6)
    fixed = {"problem.strategy_bits": 12, "years": 3.0}
    alone = table(run_experiment(experiment, runs=6, overrides=fixed))
    with make_executor(workers=2) as executor:
        pooled = table(run_experiment(experiment, runs=6, overrides=fixed, executor=executor))
    pd.testing.assert_frame_equal(alone, pooled)


def test_validate_refuses_bad_input_before_writing(tmp_path):
    with pytest.raises(InputError, match="no such validation experiment"):
        validate(["march1992"], out=tmp_path / "out")
    with pytest.raises(InputError, match="--replicates"):
        validate(["trust_asymmetry"], out=tmp_path / "out", runs=1)
    assert not (tmp_path / "out").exists()


def test_cli_validate_writes_table_figure_and_report(tmp_path):
    runner = CliRunner()
    out = tmp_path / "validation"
    result = runner.invoke(app, ["validate", "trust_asymmetry", "--replicates", "3", "--out", str(out),
                                 "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "trust_asymmetry: PASS" in result.output
    frame = pd.read_csv(out / "validation" / "trust_asymmetry.csv")
    assert {"violation_rate", "relationships", "step", "mean_trust", "base_seed",
            "ci_sim"} <= set(frame.columns)
    assert (out / "img" / "validation" / "trust_asymmetry.png").stat().st_size > 10_000
    report = (out / "validation.md").read_text()
    assert "img/validation/trust_asymmetry.png" in report and "PASS" in report


def test_cli_validate_bad_name_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    out = tmp_path / "nothing"
    result = runner.invoke(app, ["validate", "nonsense", "--out", str(out)])
    assert result.exit_code == 2
    assert "no such validation experiment" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
