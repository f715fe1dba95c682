"""What is observed each month (ODD 7.19): the metrics and the StriveTogether gateways."""

from __future__ import annotations

import numpy as np

#: Metrics recorded every step: name -> meaning (all in 0..1 except where said).
METRICS = {
    "outcome": "population outcome index: indicators weighted by the real needs",
    "indicators_improving": "share of indicators whose measured level over the last 12 months "
                            "is above the launch year's measurement",
    "agenda_alignment": "partners' commitment x share of choices where they hold the agenda's view",
    "mean_trust": "mean trust over network ties",
    "duplication": "share of effort beyond what indicators absorb (overlap)",
    "funding_gini": "Gini coefficient of grants across grantees",
    "backbone_spend": "money paid to the backbone this month (money units)",
    "gateway": "StriveTogether gateway reached, 0 Exploring .. 4 Proof Point",
    "strategy_score": "mean (payoff / best payoff) ** score_exponent of partners' strategies",
    "agenda_knowledge": "what the agenda knows of reality: payoff of its view / best payoff; "
                        "on a needle landscape (right - wrong) / choices (March 1991)",
    "participation": "momentum of the collaboration, driven by the preconditions",
    "money_given": "money funders gave this month (money units)",
    "money_received": "money grantees and the backbone received this month (money units)",
}
GATEWAYS = ("Exploring", "Emerging", "Sustaining", "Systems Change", "Proof Point")
#: Conditions to pass each gateway (StriveTogether Theory of Action), checked monthly;
#: a gateway once reached stays reached. Only the first asks how many partners are at the
#: table (a cross-sector partnership has formed); the later ones observe what partners do
#: (alignment, trust) and what the indicators show.
GATEWAY_RULES = (
    {"participation": 0.5, "agenda_alignment": 0.25},
    {"agenda_alignment": 0.5, "mean_trust": 0.45},
    {"agenda_alignment": 0.6, "mean_trust": 0.55, "indicators_improving": 0.5},
    {"outcome_gain": 0.12, "indicators_improving": 0.64},
)


#: :data:`GATEWAY_RULES` as the compiled month reads them: one row per gateway, one column per
#: metric of :data:`METRICS` and a last one for ``outcome_gain`` (the outcome's gain since the
#: start), the level to reach or -inf where the rule asks nothing.
GATEWAY_LEVELS = np.full((len(GATEWAY_RULES), len(METRICS) + 1), -np.inf)
for _row, _rule in enumerate(GATEWAY_RULES):
    for _key, _level in _rule.items():
        _column = len(METRICS) if _key == "outcome_gain" else list(METRICS).index(_key)
        GATEWAY_LEVELS[_row, _column] = _level
GATEWAY_LEVELS.setflags(write=False)
del _row, _rule, _key, _level, _column
