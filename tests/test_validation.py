"""Validation experiments: fast versions of the dockings, the mapping onto March's rates,
the equilibrium rule, executors and the ``ci-sim validate`` command.

The fast versions use fewer runs and fewer grid points than ``ci-sim validate``, but the
same scenario files, model and checks: each fails when the mechanism it docks is broken.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numba import njit
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.model.engines import engine
from ci_sim.executors import make_executor
from ci_sim.model import CollectiveImpactModel, kernels
from ci_sim.errors import InputError
from ci_sim.model.scenarios import load_scenario
from ci_sim.studies.validation.experiments import EXPERIMENTS, consistent, contrast
from ci_sim.studies.validation.report import validate
from ci_sim.studies.validation.study import (at_equilibrium, check_closed_system, difference,
                                             run_experiment, scenario_path, table, verdict)


def spy_kernels(model: CollectiveImpactModel, calls: dict[str, list]) -> None:
    """Record the rates the model passes to the learning kernels, then run the real ones."""
    real = engine(model.engine_name)

    def socialize(beliefs, code, rate, keys, month, stepwise):
        calls["socialization"].append(np.array(rate))
        return real.socialize(beliefs, code, rate, keys, month, stepwise)

    def learn_agenda(code, views, score, code_score, seen, rate, keys, month, march):
        calls["agenda"].append((rate, np.array(seen)))
        return real.learn_agenda(code, views, score, code_score, seen, rate, keys, month, march)

    def learn_from_peers(field, ties, landscape, keys, month, rules, communication,
                         measurement):
        calls["peers"].append((communication, measurement, rules.imitation_rate,
                               rules.exploration_rate))
        return real.learn_from_peers(field, ties, landscape, keys, month, rules, communication,
                                     measurement)

    # The python engine's month calls these in place of the kernels; the state is the same.
    model.kernels = engine("python", socialize=socialize, learn_agenda=learn_agenda,
                           learn_from_peers=learn_from_peers)


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


#: A few points of Figure 1's grid: slow, middle and fast socialization.
FEW_POINTS = {"learning.socialization_rate": (0.1, 0.5, 0.9),
              "learning.agenda_learning_rate": (0.5, 0.9)}


def no_fan_check(experiment):
    """The docking checks alone (the fan check needs more runs than a fast test)."""
    from ci_sim.studies.validation.experiments import docking_checks
    return dataclasses.replace(experiment, analyse=docking_checks)


def test_march_special_case_matches_the_independent_reimplementation():
    experiment = no_fan_check(small("march1991_learning_rates", FEW_POINTS, runs=200))
    results = run_experiment(experiment, runs=200)
    every_point, pooled, chi2 = results.checks
    assert chi2.passed, chi2.measured
    for index in range(len(results.points)):
        gap = difference(results, index)
        assert abs(gap["mean"]) < 0.02 and abs(gap["z"]) < 3.5, (results.points[index], gap)
    assert all(results.equilibrium[i].all() for i in results.equilibrium)
    frame = table(results)
    assert (frame["runs"] == 200).all() and (frame["reference_runs"] == 400).all()


class PythonVariant(CollectiveImpactModel):
    """The model set up as usual, then run on the python engine with the subclass's
    ``python_kernels`` in place of the kernels (any Python function: a counter, numpy, a call
    of the real kernel)."""

    python_kernels: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kernels = engine("python", **self.python_kernels)


@njit
def right_answers(table, flip):
    """+1 or -1 on each choice of a needle landscape, as ``kernels.needle_knowledge`` reads it."""
    return np.where(table[:, 1] > 0, 1, -1) * np.where(flip > 0, -1, 1)


def act_on_dimensions_known(beliefs, keys, month, actions, table, flip, scores):
    """The wrong rule: no coin flips; a member scores the share of dimensions it knows."""
    right = right_answers(table, flip)
    for i in range(beliefs.shape[0]):
        actions[i] = beliefs[i]
        scores[i] = (beliefs[i] == right).sum() / beliefs.shape[1]


def dimensions_known(view, table, flip):
    return (view == right_answers(table, flip)).sum() / view.shape[0]


class DimensionsKnown(CollectiveImpactModel):
    """The wrong rule ci-sim once had: members (and the code) ranked by the dimensions they
    know (right beliefs; undecided and wrong both score 0), the code following the majority
    of the superior members' beliefs rather than their actions."""

    replaced_kernels = {"act": act_on_dimensions_known, "needle_knowledge": dimensions_known}


def test_docking_fails_for_the_dimensions_known_rule(monkeypatch):
    monkeypatch.setattr("ci_sim.studies.validation.study.CollectiveImpactModel", DimensionsKnown)
    experiment = no_fan_check(small("march1991_learning_rates", FEW_POINTS, runs=200))
    results = run_experiment(experiment, runs=200)
    every_point, pooled, chi2 = results.checks
    assert not every_point.passed and not pooled.passed and not chi2.passed, verdict(results)


def test_march_turnover_docks_and_turnover_helps_fast_socialization():
    experiment = small("march1991_turnover", {"learning.socialization_rate": (0.9,),
                                              "learning.turnover": (0.0, 0.02)}, runs=300)
    results = run_experiment(experiment, runs=300)
    every_point, pooled, chi2, gain = results.checks
    assert chi2.passed, chi2.measured
    gap = contrast(results, results.point(turnover=0.02), results.point(turnover=0.0))
    assert gap["model"]["low"] > 0.1, gain.measured  # moderate turnover helps, a lot
    assert consistent(gap["gap"], results.experiment.margin), gain.measured


#: Keys of the month's random processes for the kernel tests below.
KEYS = np.random.SeedSequence(20261207).generate_state(len(kernels.PROCESSES), np.uint64)


def process_number(process: int, month: int, unit: int, slot: int = 0) -> float:
    """The number the kernels use for ``process`` (kernels.uniform, as plain Python)."""
    with np.errstate(over="ignore"):
        return kernels.uniform(KEYS, process, month, unit, slot)


def test_members_act_on_beliefs_and_flip_coins_where_undecided():
    """A decided view is played as held; an undecided one is -1 when the member's number of
    process 'actions' for that choice is below 0.5, else +1; the score is (right - wrong) / N."""
    beliefs = np.array([[1, -1, 0, 0], [0, 0, 1, 1]], dtype=np.int8)
    table = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # right: + - + +
    flip = np.array([0, 0, 0, 1], dtype=np.int8)  # last choice relabelled: right is -
    right = np.array([1, -1, 1, -1])
    flipped = {-1: 0, 1: 0}
    for month in range(40):
        expected = np.where(beliefs != 0, beliefs, [[
            -1 if process_number(kernels.ACTIONS, month, i, b) < 0.5 else 1
            for b in range(4)] for i in range(2)])
        for value in (-1, 1):
            flipped[value] += int(np.sum((beliefs == 0) & (expected == value)))
        expected_scores = ((expected == right).sum(axis=1) - (expected != right).sum(axis=1)) / 4
        for name in ("python", "numba"):
            actions, scores = np.zeros((2, 4), dtype=np.int8), np.zeros(2)
            with np.errstate(over="ignore"):
                engine(name).act(beliefs, KEYS, month, actions, table, flip, scores)
            assert actions.tolist() == expected.tolist()
            assert scores.tolist() == expected_scores.tolist()
    assert min(flipped.values()) > 50, flipped  # a fair coin: 160 flips, both sides
    for name in ("python", "numba"):
        assert engine(name).needle_knowledge(np.array([1, 0, 0, -1], dtype=np.int8), table,
                                             flip) == 0.5


def test_socialization_moves_one_step_towards_the_code_in_march_program():
    code = np.array([1, -1, 0, 1], dtype=np.int8)
    for name in ("python", "numba"):
        with np.errstate(over="ignore"):
            beliefs = np.array([[-1, 1, 1, 0], [0, 0, -1, 1]], dtype=np.int8)
            engine(name).socialize(beliefs, code, np.array([1.0, 1.0]), KEYS, 0, True)
            assert beliefs.tolist() == [[0, 0, 1, 1], [1, -1, -1, 1]]
            beliefs = np.array([[-1, 1, 1, 0]], dtype=np.int8)
            engine(name).socialize(beliefs, code, np.array([1.0]), KEYS, 0, False)
            assert beliefs.tolist() == [[1, -1, 1, 1]]
            engine(name).socialize(beliefs := np.array([[-1, 1, 1, 0]], dtype=np.int8), code,
                                   np.array([0.0]), KEYS, 0, False)
            assert beliefs.tolist() == [[-1, 1, 1, 0]]  # rate 0: no one moves


def test_code_learns_from_superior_actions_with_k_majority_minus_minority():
    """Three members beat the code (score 0.1): two act +1, one -1 on choice 0, so k = 1;
    on choice 1 all three act -1, k = 3. A member at the code's score is not superior. With
    p2 = 0.5 the code adopts the majority on a choice when the number of process
    'agenda_adoption' for it is below 1 - 0.5**k: 0.5 and 0.875; month after month, a rule
    with another k disagrees on about a quarter and an eighth of the months."""
    views = np.array([[1, -1], [1, -1], [-1, -1], [-1, 1]], dtype=np.int8)
    score = np.array([0.5, 0.2, 0.3, 0.1])
    seen = np.ones(4, dtype=np.bool_)
    adopted = np.zeros(2)
    for month in range(400):
        expected = [1 if process_number(kernels.AGENDA_ADOPTION, month, 0) < 0.5 else 0,
                    -1 if process_number(kernels.AGENDA_ADOPTION, month, 1) < 0.875 else 0]
        adopted += np.abs(expected)
        for name in ("python", "numba"):
            code = np.zeros(2, dtype=np.int8)
            with np.errstate(over="ignore"):
                engine(name).learn_agenda(code, views, score, 0.1, seen, 0.5, KEYS, month, True)
            assert code.tolist() == expected
    assert 0.4 < adopted[0] / 400 < 0.6 and 0.82 < adopted[1] / 400 < 0.93, adopted


def test_lazer_friedman_fast_version_full_early_linear_late():
    """The paper's pattern, in the model and in the re-implementation run on its landscapes."""
    experiment = small("lazer_friedman2007", {"learning.network": ("linear", "full")}, runs=16)
    results = run_experiment(experiment, runs=16)
    pattern = results.checks[-2:]
    assert "re-implementation" in pattern[0].measured
    assert all(check.passed for check in pattern), verdict(results)


#: The fast docking: the linear network (where imitation and exploration shape the path and
#: runs vary least) over its first year.
FAST_DOCKING = {"learning.network": ("linear",)}


def lazer_friedman_docking(runs: int, overrides: dict | None = None):
    experiment = small("lazer_friedman2007", FAST_DOCKING, runs=runs)
    results = run_experiment(experiment, runs=runs, overrides={"years": 1.0, **(overrides or {})})
    assert results.paired[0].shape == results.values[0].shape == (runs, 13)
    return results.checks[0]


def test_lazer_friedman_special_case_docks_with_the_reimplementation():
    check = lazer_friedman_docking(30)
    assert check.passed, check


def test_lazer_friedman_docking_fails_for_a_wrong_model():
    """Exploring half as often: the same fast docking that passes the special case fails.
    (A subtler error, copying half of a better neighbour's choices, is not tested.)"""
    check = lazer_friedman_docking(30, {"learning.exploration_rate": 0.5})
    assert not check.passed, check


def test_lazer_friedman_docking_fails_for_a_wrong_kernel(monkeypatch):
    """A peer-learning kernel that ignores every other period's exploration."""
    real = engine("numba")
    calls = {"count": 0}

    def lazy(field, ties, landscape, keys, month, rules, communication, measurement):
        calls["count"] += 1
        if calls["count"] % 2 == 0:
            rules = rules._replace(exploration_rate=0.0)
        return real.learn_from_peers(field, ties, landscape, keys, month, rules, communication,
                                     measurement)

    class Wrong(PythonVariant):
        python_kernels = {"learn_from_peers": lazy}

    monkeypatch.setattr("ci_sim.studies.validation.study.CollectiveImpactModel", Wrong)
    check = lazer_friedman_docking(30)
    assert not check.passed, check


def test_lazer_friedman_reference_runs_are_seeded_from_the_run(tmp_path):
    """A resumed validation reproduces the re-implementation's runs, not only the model's."""
    from ci_sim.studies.store import Store

    experiment = small("lazer_friedman2007", FAST_DOCKING, runs=3)
    first = run_experiment(experiment, runs=3, overrides={"years": 0.5},
                           store=Store(tmp_path / "runs", "validation"))
    again = run_experiment(experiment, runs=3, overrides={"years": 0.5})
    np.testing.assert_array_equal(first.paired[0], again.paired[0])
    assert not np.array_equal(first.paired[0], first.values[0])


@pytest.mark.parametrize("bias", [2.0, 4.0])
def test_trust_checks_follow_the_formula_for_other_biases(bias):
    """The break-even share moves with the bias as the formula says: (1 + r) / (1 + r + k)."""
    results = run_experiment(EXPERIMENTS["trust_asymmetry"], runs=60,
                             overrides={"trust.negativity_bias": bias, "years": 1.0})
    assert results.passed, verdict(results)
    assert f"{1 / (1 + bias):.3f} from the formula" in results.checks[0].published


def test_trust_checks_fail_for_a_wrong_formula(monkeypatch):
    """A violation that removes k b (1 - T) instead of k b T: equal at T = 1/2 in the first
    month's ratio, but the path of mean trust under violations departs from the formula's."""
    real = engine("numba")

    def wrong(field, ties, keys, month, build_rate, negativity_bias, violation_chance):
        trust, degree = ties.trust, ties.degree
        before = trust.copy()
        real.update_trust(field, ties, keys, month, build_rate, negativity_bias,
                          violation_chance)
        hit = trust < before
        trust[hit] = np.maximum(0.0, before[hit] - negativity_bias * build_rate * (1 - before[hit]))
        return float(np.mean([trust[i, d] for i in range(len(degree))
                              for d in range(degree[i])]))

    class Wrong(PythonVariant):
        python_kernels = {"update_trust": wrong}

    monkeypatch.setattr("ci_sim.studies.validation.study.CollectiveImpactModel", Wrong)
    results = run_experiment(EXPERIMENTS["trust_asymmetry"], runs=20, overrides={"years": 1.0})
    assert not results.checks[1].passed and not results.checks[3].passed, verdict(results)


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
    result = runner.invoke(app, ["validate", "trust_asymmetry", "--replicates", "30", "--out", str(out),
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


def trust_checks_with(monkeypatch, **python_kernels):
    """The trust-asymmetry checks on a model whose python engine runs ``python_kernels``."""
    class Wrong(PythonVariant):
        pass
    Wrong.python_kernels = python_kernels
    monkeypatch.setattr("ci_sim.studies.validation.study.CollectiveImpactModel", Wrong)
    return run_experiment(EXPERIMENTS["trust_asymmetry"], runs=20, overrides={"years": 1.0})


def test_trust_checks_fail_when_the_relationships_mindset_does_not_double_trust_building(
        monkeypatch):
    """Relationship-minded organizations build trust at twice the rate (ODD 7.10): without
    that, their break-even share of violations is 1/(1 + k), not 2/(2 + k)."""
    real = engine("numba")

    def undoubled(field, ties, keys, month, build_rate, negativity_bias, violation_chance):
        return real.update_trust(field._replace(relationships=np.zeros_like(
            field.relationships)), ties, keys, month, build_rate, negativity_bias,
            violation_chance)

    results = trust_checks_with(monkeypatch, update_trust=undoubled)
    assert results.checks[0].passed and not results.checks[2].passed, verdict(results)


def test_trust_checks_fail_when_meetings_do_not_depend_on_trust(monkeypatch):
    """Partners meet with probability communication x trust (ODD 7.6): a model where they
    meet (and see each other's results) whatever their trust keeps the break-even shares (the
    first month starts from one trust level) but departs from the paths of mean trust."""
    real = engine("numba")

    def trusting(field, ties, landscape, keys, month, rules, communication, measurement):
        return real.learn_from_peers(field, ties._replace(trust=np.ones_like(ties.trust)),
                                     landscape, keys, month, rules, communication, measurement)

    results = trust_checks_with(monkeypatch, learn_from_peers=trusting)
    assert not results.checks[1].passed and not results.checks[3].passed, verdict(results)

