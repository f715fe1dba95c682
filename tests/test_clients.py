"""ci-sim driven as other tools drive models: ``ci_sim.evaluate`` as a function of keyword
arguments returning named outcomes, run by EMA Workbench (uncertainties, levers, constants,
replications, ``perform_experiments``, PRIM) and by SALib's ``ProblemSpec``; the public API."""

from __future__ import annotations

import inspect
from importlib import resources

import numpy as np
import pytest

import ci_sim
from ci_sim.simulate import OUTCOMES, run

SMALL = {"organizations_count": 20}


def test_public_api_is_declared_and_typed():
    assert "evaluate" in ci_sim.__all__ and "CollectiveImpactModel" in ci_sim.__all__
    for name in ci_sim.__all__:
        assert getattr(ci_sim, name) is not None, name
    assert set(ci_sim.__all__) <= set(dir(ci_sim))
    with pytest.raises(AttributeError, match="no attribute 'evaluat'"):
        ci_sim.evaluat  # noqa: B018
    assert resources.files("ci_sim").joinpath("py.typed").is_file()
    signature = inspect.signature(ci_sim.evaluate)
    assert signature.parameters["seed"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["seed"].default is inspect.Parameter.empty


def test_evaluate_returns_every_named_outcome_and_the_time_series_on_request():
    outcomes = ci_sim.evaluate(seed=3, years=1.5, **SMALL)
    assert list(outcomes) == list(OUTCOMES)
    assert all(isinstance(value, float) for name, value in outcomes.items() if name != "gateway")
    assert isinstance(outcomes["gateway"], int) and 0 <= outcomes["gateway"] <= 4
    with_series = ci_sim.evaluate(seed=3, years=1.5, timeseries=True, **SMALL)
    frame = with_series.pop("timeseries")
    assert with_series == outcomes
    assert len(frame) == 19 and frame["step"].tolist() == list(range(19))
    assert frame["outcome"].iloc[-1] == outcomes["outcome"]
    assert outcomes["outcome_gain"] == pytest.approx(frame["outcome"].iloc[-1]
                                                     - frame["outcome"].iloc[0])
    assert frame["gateway"].dtype == np.int64


def test_evaluate_is_what_run_uses_and_is_reproducible():
    scenario, _ = ci_sim.load_scenario("isolated_impact", {"organizations.count": 20,
                                                           "years": 1.0})
    frame = run(scenario, 5)
    again = ci_sim.evaluate(scenario, seed=5, timeseries=True)["timeseries"]
    assert frame.equals(again)
    by_name = ci_sim.evaluate("isolated_impact", seed=5, years=1.0, **SMALL)
    assert by_name["outcome"] == frame["outcome"].iloc[-1]
    assert ci_sim.evaluate(seed=6, years=1.0, **SMALL) != ci_sim.evaluate(seed=5, years=1.0,
                                                                          **SMALL)


def test_evaluate_takes_identifier_dotted_and_field_names_and_numpy_values():
    by_identifier = ci_sim.evaluate(seed=2, years=1.0, conditions_common_agenda=0.3,
                                    backbone_cut_year=0.5, **SMALL)
    by_dotted = ci_sim.evaluate(seed=2, years=1.0, **{"conditions.common_agenda": 0.3,
                                                      "backbone.cut_year": 0.5,
                                                      "organizations.count": 20})
    by_field = ci_sim.evaluate(seed=2, years=1.0, common_agenda=np.float64(0.3),
                               backbone_cut_year=0.5, count=np.int64(20))
    assert by_identifier == by_dotted == by_field
    assert by_identifier != ci_sim.evaluate(seed=2, years=1.0, **SMALL)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"seed": 1, "cut_year": 1.0}, "'cut_year' is in several sections"),
    ({"seed": 1, "common_agender": 0.5}, "unknown parameter 'common_agender'"),
    ({"seed": 1, "common_agenda": 1.5}, "conditions.common_agenda' must be <= 1"),
    ({"seed": 1, "count": 20.5}, "organizations.count' must be a whole number"),
    ({"seed": -1}, "seed must be a non-negative integer"),
    ({"seed": 1.0}, "seed must be a non-negative integer"),
    ({"seed": 1, "years": 2.0, "scenario": None, "organizations_count": 20,
      "conditions_common_agenda": 0.5, "conditions.common_agenda": 0.4}, "both set"),
])
def test_evaluate_refuses_bad_input_in_one_line(arguments, message):
    with pytest.raises(ci_sim.InputError, match=message) as refused:
        ci_sim.evaluate(**arguments)
    assert "\n" not in str(refused.value) and "--set" not in str(refused.value)


def ema_prim(x, y):
    """EMA Workbench's PRIM on ``x`` and a boolean ``y``: version 3 takes no threshold,
    2.5 (the newest for Python 3.11) requires one."""
    from ema_workbench.analysis import prim

    needs_threshold = "threshold" in inspect.signature(prim.Prim.__init__).parameters
    return prim.Prim(x, y, **({"threshold": 0.8} if needs_threshold else {}))


def test_ema_workbench_runs_evaluate_with_replications_and_prim_finds_a_box():
    import ema_workbench as ema
    model = ema.ReplicatorModel("collectiveimpact", function=ci_sim.evaluate)
    model.uncertainties = [ema.RealParameter("conditions_common_agenda", 0.0, 1.0),
                           ema.RealParameter("trust_build_rate", 0.005, 0.05)]
    model.levers = [ema.RealParameter("backbone_budget_share", 0.0, 0.3)]
    model.constants = [ema.Constant("years", 1.5), ema.Constant("organizations_count", 20)]
    model.replications = [{"seed": seed} for seed in (11, 12)]
    model.outcomes = [ema.ScalarOutcome("outcome", function=np.mean),
                      ema.ScalarOutcome("agenda_alignment", function=np.mean)]
    experiments, outcomes = ema.perform_experiments(model, scenarios=12, policies=2)
    assert len(experiments) == 24 and outcomes["outcome"].shape == (24,)
    # Each experiment's outcome is the mean over the replications of evaluate's outcome.
    for row in (0, 17):
        point = experiments.iloc[row]
        direct = [ci_sim.evaluate(seed=seed, years=1.5, organizations_count=20, **{
            name: point[name] for name in ("conditions_common_agenda", "trust_build_rate",
                                           "backbone_budget_share")})["outcome"]
                  for seed in (11, 12)]
        assert outcomes["outcome"][row] == pytest.approx(np.mean(direct), rel=1e-12)
    # PRIM: which inputs lead to the best quarter of alignment? The common agenda's strength.
    x = experiments[["conditions_common_agenda", "trust_build_rate", "backbone_budget_share"]]
    y = outcomes["agenda_alignment"] >= np.quantile(outcomes["agenda_alignment"], 0.75)
    box = ema_prim(x.reset_index(drop=True), y).find_box()
    assert 0 < box.coverage <= 1 and box.density > y.mean()
    limits = box.box_lim
    assert limits["conditions_common_agenda"].iloc[0] > 0.0  # the box excludes weak agendas


def test_salib_problem_spec_drives_evaluate():
    from SALib import ProblemSpec

    problem = ProblemSpec({"names": ["conditions_common_agenda", "backbone_budget_share"],
                           "bounds": [[0.0, 1.0], [0.0, 0.3]],
                           "outputs": ["agenda_alignment"]})
    problem.sample_sobol(8, calc_second_order=False, seed=1)

    def alignment(samples):
        return np.array([ci_sim.evaluate(seed=1, years=1.0, organizations_count=20,
                                         **dict(zip(problem["names"], values)))
                         ["agenda_alignment"] for values in samples])

    problem.evaluate(alignment)
    problem.analyze_sobol(calc_second_order=False, seed=1)
    total = problem.analysis["ST"]
    assert problem.results.shape == (8 * 4,)
    # Alignment is commitment to the agenda: the agenda's strength matters more than the
    # backbone's share in the first year.
    assert total[0] > total[1]
