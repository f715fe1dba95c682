"""The patterns the model must show (the brief's section 4), each over 20 seeds.

Every comparison is paired: scenarios run on the same replicate seeds (common random
numbers), and a fact holds when the mean paired difference has the expected sign and is
large next to its standard error, or holds in a stated share of the seeds. Nothing in the
model knows about these tests: they pass because the mechanisms produce the patterns.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ci_sim.model import CollectiveImpactModel
from ci_sim.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds, run

SEEDS = tuple(replicate_seeds(20261123, 20))


@cache
def trajectories(name: str, *overrides: tuple[str, object]) -> dict[str, np.ndarray]:
    """Metric -> array (seed, month) for a built-in scenario with overrides."""
    scenario, _ = load_scenario(name, dict(overrides))
    frames = [run(scenario, seed) for seed in SEEDS]
    return {metric: np.array([frame[metric].to_numpy() for frame in frames])
            for metric in frames[0].columns if metric not in ("step", "year")}


def final(name: str, metric: str = "outcome", *overrides) -> np.ndarray:
    return trajectories(name, *overrides)[metric][:, -1]


def cumulative(name: str, *overrides) -> np.ndarray:
    """Mean outcome over the run: the population's benefit summed over the decade."""
    return trajectories(name, *overrides)["outcome"].mean(axis=1)


def better(a: np.ndarray, b: np.ndarray, t: float = 2.5) -> bool:
    """Paired: a beats b by more than ``t`` standard errors of the mean difference."""
    diff = a - b
    return diff.mean() > t * diff.std(ddof=1) / np.sqrt(len(diff))


COMPLEX = ("problem.type", "complex")
SIMPLE = ("problem.type", "simple")


def test_on_complex_problems_collective_impact_beats_coalition_beats_isolated():
    ci = final("collective_impact", "outcome", COMPLEX)
    coalition = final("coalition_no_backbone", "outcome", COMPLEX)
    isolated = final("isolated_impact", "outcome", COMPLEX)
    assert better(ci, coalition) and better(coalition, isolated)
    assert np.mean(ci > coalition) >= 0.9 and np.mean(coalition > isolated) >= 0.9


def test_on_simple_problems_the_advantage_is_small_and_reversed_early():
    gain_simple = final("collective_impact", "outcome", SIMPLE) \
        - final("isolated_impact", "outcome", SIMPLE)
    gain_complex = final("collective_impact", "outcome", COMPLEX) \
        - final("isolated_impact", "outcome", COMPLEX)
    assert gain_simple.mean() < 0.5 * gain_complex.mean()
    # In the first two years isolated programs, free of coordination costs, lead.
    year_one = trajectories("isolated_impact", SIMPLE)["outcome"][:, 12] \
        - trajectories("collective_impact", SIMPLE)["outcome"][:, 12]
    assert better(year_one, np.zeros_like(year_one))


def test_j_curve_collective_impact_trails_during_set_up_then_overtakes():
    ci = trajectories("collective_impact", COMPLEX)["outcome"]
    isolated = trajectories("isolated_impact", COMPLEX)["outcome"]
    gap = ci - isolated
    assert np.mean(gap[:, 12] < 0) >= 0.8, "collective impact should trail at the end of year 1"
    assert np.all(gap[:, 60] > 0), "and lead everywhere by year 5"
    assert gap[:, -1].mean() > 10 * abs(gap[:, 12].mean())


def test_backbone_investment_has_an_interior_optimum():
    none = final("collective_impact", "outcome", ("backbone.enabled", False))
    moderate = final("collective_impact", "outcome", ("backbone.budget_share", 0.12))
    heavy = final("collective_impact", "outcome", ("backbone.budget_share", 0.30))
    assert better(moderate, none) and better(moderate, heavy)


@pytest.mark.parametrize("unshifted", ["technical_solutions", "silver_bullet", "credit_hoarded",
                                       "evidence_only", "content_only"])
def test_each_mindset_shift_helps_on_complex_problems(unshifted):
    """Sign test on the cumulative outcome: the shifted mindset does better on at least 15 of
    20 paired seeds (p = 0.02 if it made no difference), and better on average."""
    shifted, not_shifted = cumulative("collective_impact"), cumulative(unshifted)
    assert np.mean(shifted > not_shifted) >= 0.75
    assert shifted.mean() > not_shifted.mean()


def test_credit_hoarding_erodes_trust():
    assert better(final("collective_impact", "mean_trust"), final("credit_hoarded", "mean_trust"))


def test_an_early_backbone_cut_lets_alignment_decay():
    cut = trajectories("backbone_cut_year3")["agenda_alignment"]
    kept = trajectories("collective_impact")["agenda_alignment"]
    assert better(kept[:, -1], cut[:, -1])
    assert better(cut[:, 36:48].max(axis=1), cut[:, -1]), "alignment falls after the cut"


def test_trust_grown_strong_holds_alignment_together_after_a_cut():
    """Trust built fast (strong by year 3) keeps more of the alignment than trust built slowly."""
    slow = trajectories("backbone_cut_year3", ("trust.build_rate", 0.01))
    fast = trajectories("backbone_cut_year3", ("trust.build_rate", 0.04))
    assert better(fast["mean_trust"][:, 36], slow["mean_trust"][:, 36])
    assert better(fast["agenda_alignment"][:, -1], slow["agenda_alignment"][:, -1])


def test_missing_preconditions_stall_the_gateway():
    stalled = final("missing_preconditions", "gateway")
    assert np.all(stalled <= 1)
    assert np.mean(final("collective_impact", "gateway") >= 3) >= 0.9
    for name in ("no_champion", "no_urgency"):
        assert better(final("collective_impact", "gateway"), final(name, "gateway"))


def test_inclusive_decisions_move_the_agenda_towards_the_community_needs():
    distances = {}
    for inclusive in (0.0, 1.0):
        rows = []
        for seed in SEEDS[:10]:
            model = CollectiveImpactModel("collective_impact", rng=seed,
                                          **{"conditions.inclusive_decisions": inclusive})
            for _ in range(60):
                model.step()
            rows.append(np.abs(model.priorities - model.needs).sum())
        distances[inclusive] = np.array(rows)
    assert better(distances[0.0], distances[1.0])
