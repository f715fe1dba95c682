"""Organizations that judge strategies by their results (``learning.judges_by_results``).

A variation of an organization's strategy is run for the problem's delay before it is kept
or dropped, on the results seen, which follow the strategy's score through that delay
(ODD 7.6). Without the switch a variation is judged at once and the trajectories are those
of ``tests/baseline`` (test_baseline.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from ci_sim.model import CollectiveImpactModel
from ci_sim.model.scenarios import load_scenario

DELAY = 6


def lone_learners(judges_by_results: bool) -> CollectiveImpactModel:
    """Isolated organizations (no peers, no agenda) exploring every month, no turnover."""
    scenario, _ = load_scenario("isolated_impact", {
        "organizations.count": 30, "problem.delay_months": DELAY,
        "learning.exploration_rate": 1.0, "learning.turnover": 0.0,
        "mindsets.adaptive": 1.0, "learning.judges_by_results": judges_by_results})
    return CollectiveImpactModel(scenario, seed=8, record="none")


@pytest.mark.parametrize("engine_name", ["numba", "python"])
def test_a_variation_runs_for_the_delay_then_stays_only_if_its_results_rose(engine_name):
    model = lone_learners(True)
    if engine_name == "python":
        model = CollectiveImpactModel(model.params, seed=8, record="none", engine_name="python")
    field = model._field
    running: dict[int, tuple[int, int, int]] = {}
    judged = kept = 0
    for month in range(1, 61):
        trial_before, beliefs_before = field.trial_choice.copy(), field.beliefs.copy()
        seen_before = field.known_score.copy()
        model.step()
        for i in np.flatnonzero(field.grantee):
            if trial_before[i] < 0 and field.trial_choice[i] >= 0:
                c = int(field.trial_choice[i])
                assert field.beliefs[i, c] == -beliefs_before[i, c]  # the programs change now
                running[i] = (month, c, int(beliefs_before[i, c]))
            elif trial_before[i] >= 0 and field.trial_choice[i] < 0:
                start, c, old = running.pop(i)
                assert month - start == DELAY
                stays = bool(field.beliefs[i, c] != old)
                assert stays == (seen_before[i] > field.trial_base[i])
                judged += 1
                kept += stays
            elif trial_before[i] >= 0:
                assert field.beliefs[i, trial_before[i]] == beliefs_before[i, trial_before[i]]
    assert judged > 100 and 0 < kept < judged


def test_results_follow_the_score_through_the_delay_and_learning_slows():
    """The results seen move towards the score by 1/delay a month; a lone organization that
    must wait for its results climbs the landscape more slowly than one that judges a
    variation at once, and holds worse strategies while it tries them."""
    waiting, at_once = lone_learners(True), lone_learners(False)
    for _ in range(36):
        seen_before = waiting._field.known_score.copy()
        waiting.step()
        at_once.step()
        field = waiting._field
        np.testing.assert_allclose(field.known_score,
                                   seen_before + (field.score - seen_before) / DELAY)
    grantees = waiting._field.grantee
    assert waiting._field.score[grantees].mean() < at_once._field.score[grantees].mean() - 0.02
    strategy = [row["strategy_score"] for row in at_once.history]
    assert np.all(np.diff(strategy) >= 0)  # judged at once, a strategy never gets worse
    assert np.any(np.diff([row["strategy_score"] for row in waiting.history]) < 0)
