"""The patterns the model must show (the brief's section 4), each over 100 seeds.

The seeds are disjoint from the calibration seeds (base 20261201) the calibrated parameters
were chosen on. ``--facts-seeds`` and ``--facts-organizations`` (``tests/conftest.py``) run
the same tests on other seeds and at other field sizes; the figures quoted below are on
the tests' own seeds at the default size (40 organizations). Every comparison is paired:
scenarios run on the same replicate seeds (common random numbers), and a fact holds when
the mean paired difference has the expected sign and is large next to its standard error,
or holds in a stated share of the seeds. Nothing in the
model knows about these tests: they pass because the mechanisms produce the patterns.
Patterns the model does not (yet) produce are kept as strict expected failures with what was
measured, so that they are reported rather than hidden, and flagged when they start to hold.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ci_sim.model import CollectiveImpactModel
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds, run
from ci_sim.studies.stats import first_year_reaching

SEEDS: tuple[int, ...] = ()
#: Overrides every run here takes: the field's size from --facts-organizations, if given.
FIELD: tuple[tuple[str, object], ...] = ()


@pytest.fixture(autouse=True, scope="module")
def field_under_test(request: pytest.FixtureRequest) -> None:
    """The seeds and size of --facts-seeds and --facts-organizations, set once before any
    run is made (the runs are cached for the whole module)."""
    global SEEDS, FIELD
    SEEDS = tuple(replicate_seeds(request.config.getoption("--facts-seeds"), 100))
    organizations = request.config.getoption("--facts-organizations")
    FIELD = () if organizations is None else (("organizations.count", organizations),)


@cache
def trajectories(name: str, *overrides: tuple[str, object]) -> dict[str, np.ndarray]:
    """Metric -> array (seed, month) for a built-in scenario with overrides."""
    scenario, _ = load_scenario(name, dict(FIELD + overrides))
    frames = [run(scenario, seed) for seed in SEEDS]
    return {metric: np.array([frame[metric].to_numpy() for frame in frames])
            for metric in frames[0].columns if metric not in ("step", "year")}


def final(name: str, metric: str = "outcome", *overrides) -> np.ndarray:
    return trajectories(name, *overrides)[metric][:, -1]


def better(a: np.ndarray, b: np.ndarray, t: float = 2.5) -> bool:
    """Paired: a beats b by more than ``t`` standard errors of the mean difference."""
    diff = a - b
    return diff.mean() > t * diff.std(ddof=1) / np.sqrt(len(diff))


def material(a: np.ndarray, b: np.ndarray, size: float = 0.02) -> bool:
    """Paired: a beats b by at least ``size`` on average, and the 95% interval of the mean
    difference excludes zero."""
    diff = a - b
    return diff.mean() >= size and better(a, b, t=2.05)


COMPLEX = ("problem.type", "complex")
SIMPLE = ("problem.type", "simple")


def test_on_complex_problems_collective_impact_beats_coalition_beats_isolated():
    ci = final("collective_impact", "outcome", COMPLEX)
    coalition = final("coalition_no_backbone", "outcome", COMPLEX)
    isolated = final("isolated_impact", "outcome", COMPLEX)
    assert better(ci, coalition) and better(coalition, isolated)
    assert np.mean(ci > coalition) >= 0.9 and np.mean(coalition > isolated) >= 0.75


def advantage(overrides) -> np.ndarray:
    """Collective impact's year-10 advantage over isolated impact, per seed."""
    return final("collective_impact", "outcome", *overrides) \
        - final("isolated_impact", "outcome", *overrides)


@pytest.mark.xfail(strict=True, reason="does not emerge at the calibrated defaults: on "
                   "these seeds +0.139, +0.157, +0.155, +0.140 at K = 0, 2, 5, 8 (K 8 minus "
                   "K 0: +0.001 +/- 0.007); it rises to K = 2 and falls beyond K = 5. "
                   "docs/findings.md ('Where the advantage comes from') splits it: imitating "
                   "peers adds most at K = 3-5, socialization to the agenda's view adds less "
                   "the more rugged the landscape (-0.010 at K = 8), and the rest falls a "
                   "little with K. With choices that interact across organizations "
                   "(problem.across_organizations = 1) it falls with K instead: +0.131 at "
                   "K = 0 to +0.021 at K = 8 ('When choices interact across organizations')")
def test_the_advantage_grows_with_interdependence():
    """Grows from K = 0 to K = 8 and no step falls beyond its interval."""
    gains = [advantage([COMPLEX, ("problem.interdependence", k)]) for k in (0, 2, 5, 8)]
    assert better(gains[-1], gains[0])
    for low, high in zip(gains, gains[1:]):
        diff = high - low
        assert diff.mean() > -2 * diff.std(ddof=1) / np.sqrt(len(diff))


def advantage_over_time(k: int, years: int = 30) -> np.ndarray:
    """Collective minus isolated impact on the complex problem with interdependence ``k``,
    per seed (rows) and month (columns), over ``years``."""
    overrides = (COMPLEX, ("problem.interdependence", k), ("years", years))
    return trajectories("collective_impact", *overrides)["outcome"] \
        - trajectories("isolated_impact", *overrides)["outcome"]


def test_on_more_interdependent_problems_the_advantage_comes_later_and_ends_larger():
    """The brief compares long-run outcomes. At year 5 the advantage is smaller the more
    interdependent the problem (on a rugged landscape the partners' joint search takes longer
    to pay); after 30 years it is larger at K = 5 and K = 8 than on a separable problem, as
    the partners' search beats lone search by more on a rugged landscape (Lazer & Friedman
    2007). Growth step by step through K = 8 is not asked here: docs/findings.md shows it at
    200 organizations and more, not at 50. At year 10, the default horizon, the advantage
    does not grow with K (the expected failure above)."""
    gaps = {k: advantage_over_time(k) for k in (0, 5, 8)}
    year_5, year_30 = 5 * 12, 30 * 12
    assert better(gaps[0][:, year_5], gaps[8][:, year_5])
    assert better(gaps[5][:, year_30], gaps[0][:, year_30])
    assert better(gaps[8][:, year_30], gaps[0][:, year_30])


def test_on_simple_problems_the_advantage_is_smaller_and_reversed_early():
    assert better(advantage([COMPLEX]), advantage([SIMPLE]))
    # In the first year isolated programs, free of coordination costs, lead.
    year_one = trajectories("isolated_impact", SIMPLE)["outcome"][:, 12] \
        - trajectories("collective_impact", SIMPLE)["outcome"][:, 12]
    assert better(year_one, np.zeros_like(year_one))


@pytest.mark.xfail(strict=True, reason="does not emerge: on these seeds the simple-problem "
                   "advantage is +0.122, 79% of the complex one (+0.155). Much of it comes "
                   "without searching together (coordination of effort, funding, context, "
                   "inclusion), which a separable, immediate problem does not remove: +0.076 "
                   "of +0.154 at K = 5 and +0.084 of +0.131 at K = 0 (docs/findings.md, "
                   "50 organizations)")
def test_on_a_separable_immediate_problem_the_advantage_is_small():
    assert advantage([SIMPLE]).mean() < 0.5 * advantage([COMPLEX]).mean()


def early_gap() -> np.ndarray:
    """Collective minus isolated impact, months 1-24 (complex problem), per seed."""
    ci = trajectories("collective_impact", COMPLEX)["outcome"]
    return (ci - trajectories("isolated_impact", COMPLEX)["outcome"])[:, 1:25]


def test_j_curve_collective_impact_trails_during_set_up_then_overtakes():
    gap = early_gap()
    assert better(-gap.mean(axis=1), np.zeros(len(gap))), "trails over years 1-2"
    full = trajectories("collective_impact", COMPLEX)["outcome"] \
        - trajectories("isolated_impact", COMPLEX)["outcome"]
    assert np.mean(full[:, 60] > 0) >= 0.9, "and leads by year 5"
    assert full[:, -1].mean() > 10 * abs(gap.mean())


@pytest.mark.xfail(strict=True, reason="does not emerge: on these seeds collective impact "
                   "trails by at most 0.005 on average, on 0% of seeds by 0.02")
def test_j_curve_dip_is_visible():
    assert np.mean(early_gap().min(axis=1) <= -0.02) >= 0.8


def test_backbone_investment_has_an_interior_optimum():
    """Small but there: on these seeds 12% of the pool beats no backbone by +0.101 and 30% by
    +0.007 +/- 0.006 (docs/findings.md gives the best share and the flat range around it)."""
    none = final("collective_impact", "outcome", ("backbone.enabled", False))
    moderate = final("collective_impact", "outcome", ("backbone.budget_share", 0.12))
    heavy = final("collective_impact", "outcome", ("backbone.budget_share", 0.30))
    assert better(moderate, none) and better(moderate, heavy)


@pytest.mark.parametrize("unshifted", [
    "technical_solutions",
    "silver_bullet",
    pytest.param("credit_hoarded", marks=pytest.mark.xfail(
        strict=True, reason="below the material size at the calibrated defaults: +0.011 +/- "
        "0.005 on these seeds, +0.013 to +0.017 at 50 to 5,000 organizations in "
        "docs/findings.md")),
    "evidence_only", "content_only"])
def test_each_mindset_shift_helps_on_complex_problems(unshifted):
    """Each shift is material: at least +0.02 on the year-10 outcome, interval excluding 0."""
    assert material(final("collective_impact"), final(unshifted))


def test_trust_matters():
    """Trust held at 0.9 rather than 0.1 for the whole run (no building, no violations) is
    material: who meets whom, what partners see of each other and how well knowledge
    transfers all follow dyadic trust (Ansell & Gash 2008; Levin & Cross 2004; Szulanski
    1996)."""
    held = (("trust.build_rate", 0.0), ("trust.violation_rate", 0.0))
    assert material(final("collective_impact", "outcome", ("trust.initial", 0.9), *held),
                    final("collective_impact", "outcome", ("trust.initial", 0.1), *held))


def test_inclusive_decisions_improve_the_outcome():
    """Material on these seeds (+0.029 +/- 0.007). On docs/findings.md's seeds it is +0.025,
    +0.021, +0.019 and +0.026 at 50, 200, 1,000 and 5,000 organizations: at 1,000 it falls
    0.001 short of the material size, and this test fails there
    (``--facts-seeds 20270315 --facts-organizations 1000``)."""
    assert material(final("collective_impact"),
                    final("collective_impact", "outcome", ("conditions.inclusive_decisions", 0.0)))


def improving_by_year(name: str) -> np.ndarray:
    """Share of indicators improving at the end of years 1 .. 10 (seed, year)."""
    return trajectories(name)["indicators_improving"][:, 12::12]


def test_indicators_improving_separate_the_scenarios_once_the_advantage_shows():
    """From year 6 on, every year, more of collective impact's indicators are improving than
    isolated impact's; after four years its share is near Strive's record, 34 of 53 (Kania &
    Kramer 2011)."""
    ci, isolated = improving_by_year("collective_impact"), improving_by_year("isolated_impact")
    for year in range(6, 11):
        assert better(ci[:, year - 1], isolated[:, year - 1]), year
    assert abs(ci[:, 3].mean() - 34 / 53) < 0.1


@pytest.mark.xfail(strict=True, reason="does not emerge: in years 1-3 collective impact's "
                   "share is below isolated impact's (J-curve; -0.012, -0.010, -0.013, t -2.7 "
                   "to -2.4, on these seeds); at year 4 it leads by only +0.020 (t 2.6), "
                   "a tenth of the +0.20 of years 8-10")
def test_indicators_improving_separate_the_scenarios_in_every_year():
    ci, isolated = improving_by_year("collective_impact"), improving_by_year("isolated_impact")
    for year in range(1, 11):
        assert better(ci[:, year - 1], isolated[:, year - 1]), year


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
    """The stall holds by construction, not as a finding (docs/findings.md lists it apart):
    with no champion and no urgency a grantee's motive to join is its peers' pull alone
    (ODD 7.4), 0 while no one takes part, so no one ever does."""
    stalled = final("missing_preconditions", "gateway")
    assert np.all(stalled <= 1)
    assert np.mean(final("collective_impact", "gateway") >= 3) >= 0.9


def test_without_a_champion_the_gateway_stalls():
    """Without a champion the year-10 gateway is lower on most seeds (Proof Point is reached on
    about 5% of seeds, against 98% with one)."""
    assert better(final("collective_impact", "gateway"), final("no_champion", "gateway"))


def test_without_urgency_the_gateways_come_later():
    """Without urgency fewer organizations come to the table at first, so Systems Change and
    Proof Point come later: by about 5 to 20 months on average, depending on the seeds and
    the size (a seed that never reaches one counts as reaching it a month after year 10).
    Whether the year-10 gateway is lower depends on the size: on these seeds at 40
    organizations 16% of seeds never reach Proof Point without urgency (2% with it); at 200
    organizations every seed reaches it either way."""
    ci = trajectories("collective_impact")["gateway"]
    unurgent = trajectories("no_urgency")["gateway"]
    for level in (3, 4):
        assert better(first_year_reaching(unurgent, level), first_year_reaching(ci, level)), \
            level


def test_inclusive_decisions_move_the_agenda_towards_the_community_needs():
    distances = {}
    for inclusive in (0.0, 1.0):
        rows = []
        for seed in SEEDS[:10]:
            model = CollectiveImpactModel("collective_impact", rng=seed, **dict(FIELD), **{
                "conditions.inclusive_decisions": inclusive})
            for _ in range(60):
                model.step()
            rows.append(np.abs(model.priorities - model.needs).sum())
        distances[inclusive] = np.array(rows)
    assert better(distances[0.0], distances[1.0])
