"""The published experiments validation docks with, one module each: March (1991)
(:mod:`.march1991`), Lazer & Friedman (2007) (:mod:`.lazer_friedman2007`) and the trust
update's consequences (:mod:`.trust_asymmetry`); here each becomes an
:class:`~ci_sim.studies.validation.study.Experiment` with its grid, analysis and figure."""

from __future__ import annotations

from ci_sim.studies.validation.lazer_friedman2007 import (LAZER_FRIEDMAN_SOURCE, LF_MARGIN,
                                                          LF_POOLED_MARGIN, LF_Z,
                                                          analyse_lazer_friedman,
                                                          lazer_friedman_reference,
                                                          plot_lazer_friedman)
from ci_sim.studies.validation.march1991 import (MARCH_SOURCE, analyse_march_learning_rates,
                                                 analyse_march_turnover, consistent, contrast,
                                                 docking_checks, march_reference,
                                                 plot_march_learning_rates, plot_march_turnover)
from ci_sim.studies.validation.study import (FIGURE_1_MARGIN, FIGURE_1_PRECISION,
                                             MARCH_PRECISION, Experiment)
from ci_sim.studies.validation.trust_asymmetry import analyse_trust, plot_trust

__all__ = ["EXPERIMENTS", "consistent", "contrast", "docking_checks"]

EXPERIMENTS: dict[str, Experiment] = {experiment.name: experiment for experiment in (
    Experiment(
        name="march1991_learning_rates",
        title="March (1991): equilibrium knowledge over socialization rate p1 x code "
              "learning rate p2, docked with an independent re-implementation",
        source=MARCH_SOURCE,
        compared_with="Figure 1 (p. 76), Effect of learning rates (p1, p2) on equilibrium "
                      "knowledge, m = 30, n = 50, at every point of its grid (p1, p2 = 0.1 .. "
                      "0.9), against `ci_sim.reference.march1991`, a plain numpy program "
                      "written from the paper that shares no code with the model. We do not "
                      "have the paper's plotted values to the second decimal, so the numbers "
                      "are compared with the re-implementation's.",
        grid={"learning.socialization_rate": tuple(round(0.1 * i, 1) for i in range(1, 10)),
              "learning.agenda_learning_rate": tuple(round(0.1 * i, 1) for i in range(1, 10))},
        metric="agenda_knowledge", runs=120, precision=FIGURE_1_PRECISION, max_runs=12000,
        margin=FIGURE_1_MARGIN, until_equilibrium=True, reference=march_reference,
        analyse=analyse_march_learning_rates, plot=plot_march_learning_rates,
        notes="The model's special case is March's program (`problem.initial_beliefs = "
              "\"march\"`): each period every member acts on its beliefs, an undecided "
              "dimension as a fair coin flip (`kernels.act`); the superior group is the members "
              "whose action performance, right minus wrong, exceeds the code's; on each "
              "dimension where the superior group's majority action differs from the code, the "
              "code adopts it with probability 1 - (1 - p2)^k, k = majority minus minority "
              "(`kernels.learn_agenda`); each belief differing from a decided code moves one "
              "step towards it with probability p1 (`kernels.socialize`); the code learns from "
              "the actions taken on the period's starting beliefs. Knowledge is (right - wrong) "
              "/ m. A run stops when absorbing (the code decided on every dimension and every "
              "member sharing it), or at 1,200 periods. Model and re-implementation run "
              "independent random numbers; the re-implementation runs twice the model's "
              "replicates at each point."),
    Experiment(
        name="march1991_turnover",
        title="March (1991): knowledge of the code under turnover, slow and fast "
              "socialization, docked with the re-implementation",
        source=MARCH_SOURCE,
        compared_with="The turnover results of the section on mutual learning with turnover "
                      "(pp. 78-79): moderate turnover improves the code's knowledge when "
                      "socialization is fast. Every point is compared with "
                      "`ci_sim.reference.march1991` at the same horizon.",
        grid={"learning.socialization_rate": (0.1, 0.5, 0.9),
              "learning.turnover": (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)},
        metric="agenda_knowledge", runs=60, precision=MARCH_PRECISION, max_runs=1500,
        reference=march_reference,
        analyse=analyse_march_turnover, plot=plot_march_turnover,
        notes="With turnover there is no absorbing "
              "state: knowledge is measured after the scenario's horizon (`years` x 12 "
              "periods), by the model and by the re-implementation. Each period each member "
              "leaves with probability p3 and a newcomer with naive beliefs (-1, 0, +1 equally "
              "likely; March, p. 79) takes its place before the period's actions."),
    Experiment(
        name="lazer_friedman2007",
        title="Lazer & Friedman (2007): average performance over time on four networks, "
              "docked run by run with an independent re-implementation",
        source=LAZER_FRIEDMAN_SOURCE,
        compared_with="The model section (pp. 672-675) as programmed in "
                      "`ci_sim.reference.lazer_friedman2007`, a plain numpy program written "
                      "from the paper that shares no code with the model, run on each model "
                      "run's landscape; and the comparison of the linear and the totally "
                      "connected network over time (results section, pp. 679-681): the "
                      "totally connected network reaches a higher average score early, the "
                      "linear network a higher score in the long run, measured in both "
                      "implementations. We do not have the paper's plotted values, so the "
                      "numbers are compared with the re-implementation's.",
        grid={"learning.network": ("linear", "small_world", "random", "full")},
        metric="strategy_score", runs=50, trajectory=True,
        paired_reference=lazer_friedman_reference,
        analyse=analyse_lazer_friedman, plot=plot_lazer_friedman,
        notes="Each model run hands its landscape (the NK dependencies and contribution table) "
              "to the re-implementation, which computes its own best payoff by enumerating the "
              "2^20 solutions, builds its own network and draws its own starting solutions and "
              "explorations from random numbers derived from the run's seed (so a resumed "
              "validation reproduces them); the difference of the agents' mean scores is "
              "paired run by run, and intervals are 95% t intervals over runs. A network "
              f"docks when, at every docking round, the mean difference is within {LF_Z:g} "
              f"standard errors of 0 and within +-{LF_MARGIN:g}; pooled over the networks, its "
              f"95% interval within +-{LF_POOLED_MARGIN:g}. tests/test_validation.py shows "
              "the linear network's docking failing, over its first year, for a model that "
              "explores half as often (`learning.exploration_rate` = 0.5) and for a "
              "peer-learning kernel that skips every other period's exploration. Small-world: "
              "connected "
              "Watts-Strogatz graph, 6 neighbours, rewiring 0.1; random: G(n, m) graph with 300 "
              "ties (mean degree 6); linear: a ring. Each replicate seed draws one landscape "
              "and one set of starting strategies, shared by all four networks, so the "
              "pattern's differences between networks are paired too."),
    Experiment(
        name="trust_asymmetry",
        title="Trust: a violation destroys trust faster than a good meeting builds it, "
              "and what that costs",
        source="Negativity bias in trust (recent trust models put it near 3); mechanism after "
               "Gorobets, A., & Nooteboom, B. (2006), Agent-based modeling of trust between "
               "firms in markets.",
        compared_with="The consequences of the update formula (ODD 7.10) derived by hand: the "
                      "share of violations at which trust holds steady (so how many good "
                      "meetings make up for one violation), and the exact expected path of "
                      "mean trust when every meeting is good or every one a violation, "
                      "meetings themselves depending on trust.",
        grid={"mindsets.relationships": (0.0, 1.0),
              "trust.violation_rate": (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 1.0)},
        metric="mean_trust", runs=100, trajectory=True,
        analyse=analyse_trust, plot=plot_trust,
        notes="Break-even shares are interpolated per replicate between the grid's violation "
              "shares from the first month's change of mean trust (every grid point runs on "
              "the same replicate seeds, so the same ties meet in the first month at every "
              "share). A wrong formula (a violation removing k b (1 - T) instead of k b T, a "
              "mindset that does not double the build rate, meetings that do not depend on "
              "trust) moves the break-even share or the path."),
)}


