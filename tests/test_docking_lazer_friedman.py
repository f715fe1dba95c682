"""ci-sim's Lazer & Friedman (2007) special case docks with an independent re-implementation.

The re-implementation (:mod:`ci_sim.reference.lazer_friedman2007`) is written from the paper
in plain numpy and shares no code with the model. Each run pairs the two on the same problem:
the model's landscape (its dependencies and contribution table, an input like the paper's N
and K) is handed to the re-implementation, which computes its own best payoff and draws its
own starting solutions and explorations. The agents' mean score at rounds 10 and 60 must
agree within 3.5 standard errors of the mean paired difference over 30 runs (Axtell et al.
1996, distributional equivalence). Wrong models, copying only half of a better neighbour's
choices or exploring half as often, must fail the same check.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from ci_sim.model import CollectiveImpactModel
from ci_sim.model.scenarios import builtin_path, load_scenario
from ci_sim.reference import lazer_friedman2007 as reference
from ci_sim.simulate import replicate_seeds

RUNS = 30
ROUNDS = 60
AT = [10, 60]


@cache
def paired_z(kind: str, *overrides: tuple[str, float]) -> np.ndarray:
    """z of the mean paired difference (model - re-implementation) at the rounds ``AT``."""
    scenario, _ = load_scenario(builtin_path("validation/lazer_friedman2007"),
                                {"years": ROUNDS / 12, "learning.network": kind,
                                 **dict(overrides)})
    differences = []
    for r, seed in enumerate(replicate_seeds(20071001, RUNS)):
        model = CollectiveImpactModel(scenario, seed=seed)
        for _ in range(ROUNDS):
            model.step()
        modelled = np.array([row["strategy_score"] for row in model.history])
        redone = reference.simulate(kind, ROUNDS, np.random.default_rng([2007, r]),
                                    problem=(model.deps, model.table))
        differences.append(modelled[AT] - redone[AT])
    differences = np.array(differences)
    return differences.mean(axis=0) / (differences.std(axis=0, ddof=1) / np.sqrt(RUNS))


@pytest.mark.parametrize("kind", ["linear", "full"])
def test_the_model_docks_with_the_reimplementation(kind):
    assert np.all(np.abs(paired_z(kind)) < 3.5), paired_z(kind)


@pytest.mark.parametrize("wrong", [("learning.evidence_fidelity", 0.5),
                                   ("learning.exploration_rate", 0.5)])
def test_a_wrong_model_fails_the_docking(wrong):
    """On the linear network, where imitation and exploration shape the path."""
    assert np.any(np.abs(paired_z("linear", wrong)) >= 3.5), paired_z("linear", wrong)


def test_the_reimplementation_shows_the_papers_pattern():
    """Lazer & Friedman's finding, in the re-implementation alone: the totally connected
    network leads early, the linear one ends higher (mean over 20 landscapes)."""
    paths = {kind: np.mean([reference.simulate(kind, 150, np.random.default_rng([1, r]))
                            for r in range(20)], axis=0) for kind in ("linear", "full")}
    assert paths["full"][10] > paths["linear"][10]
    assert paths["linear"][150] > paths["full"][150]
