"""Every model parameter, declared once: name, type, default, unit, allowed range, meaning, source.

A scenario is a :class:`Scenario`: nine sections whose fields are the model's parameters.
A parameter's dotted name is ``section.field`` (``conditions.common_agenda``); that is the
name used in scenario files, ``--set`` options, experiment files and output tables.
Unknown keys are errors. Defaults are the reference collective-impact scenario.

Units: time in months unless the name says years; money in "money units" per month
(read them as thousands of dollars); staff in full-time equivalents (FTE).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProblemType = Literal["simple", "complicated", "complex"]

#: How each problem type shapes the problem when its fields are left unset. Types differ
#: only in structure (Glouberman & Zimmerman 2002): how interdependent the design choices
#: are (K), how coupled the indicators are, how long effort takes to show, whether effort
#: needs a scale to work, and how much of the problem one sector's content expertise misses
#: (context_gap). Nothing here scales the payoff of collaboration itself.
#: simple: separable and immediate; complicated: separable but needs expertise and scale;
#: complex: interdependent (NK landscape with K > 0), coupled indicators, delayed response.
PROBLEM_TYPES: dict[str, dict[str, float]] = {
    "simple": {"interdependence": 0, "coupling": 0.0, "delay_months": 1.0, "scale_threshold": 0.0,
               "context_gap": 0.05},
    "complicated": {"interdependence": 0, "coupling": 0.0, "delay_months": 3.0,
                    "scale_threshold": 0.6, "context_gap": 0.15},
    "complex": {"interdependence": 5, "coupling": 0.6, "delay_months": 12.0,
                "scale_threshold": 0.0, "context_gap": 0.3},
}

BACKBONE_FUNCTIONS = ("vision", "activities", "measurement", "public_will", "policy", "resources")

#: Most meeting slots a scenario may have (organizations x (network neighbours + working-group
#: mates), :meth:`Scenario.meeting_slots`): each slot holds a partner, its trust and whether
#: they met, 17 bytes, so this bound keeps them near 0.5 GB. It also keeps every meeting list
#: within the slots the month's random numbers count (``kernels.MAX_SLOTS``).
#: It admits every full network up to 5,000 organizations and, at 100,000, about 290
#: neighbours each.
MAX_MEETING_SLOTS = 30_000_000


#: Sources for parameters that are not measured quantities.
MODEL_SCALE = "Model scale (assumption): results are read relative to other scenarios"
CALIBRATED = ("Calibrated by hand against the patterns of ODD section 1 on calibration seeds "
              "(base seed 20261201); inside the central 50% of the posterior of the ABC-SMC fit "
              "of experiments/calibration.toml (docs/calibration.md)")
FITTED = ("Posterior median (2 significant digits) of the ABC-SMC fit of "
          "experiments/calibration.toml to the patterns of ODD section 1 on calibration seeds "
          "(base seed 20261201), checked on held-out seeds (docs/calibration.md)")
SHOCK = "Scenario setting for stress tests (ci-sim stress-test)"
RESULTS_TAKE_YEARS = "ORS Impact & Spark Policy Institute 2018 (results take 3-5 years)"
BACKBONE_ROLES = "Turner et al. 2012 (the six functions of backbone organizations)"


def param(default: Any, meaning: str, *, ge: float | None = None, le: float | None = None,
          unit: str = "", source: str = "") -> Any:
    """Declare one parameter: its default, meaning, allowed range, unit and source."""
    return Field(default, ge=ge, le=le, description=meaning,
                 json_schema_extra={"unit": unit, "source": source})


class Section(BaseModel):
    """A group of parameters; unknown keys are rejected, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Organizations(Section):
    count: int = param(40, "Organizations in the field, all sectors together.", ge=3, le=100_000,
                       unit="organizations",
                       source="Strive: about 300 leaders in 15 networks (Kania & Kramer 2011)")
    funder_share: float = param(0.15, "Share of organizations that are funders (at least one).",
                                ge=0.0, le=0.5, unit="share",
                                source="Kania & Kramer 2011 (a few large funders)")
    base_capacity: float = param(1.0, "Staff each non-funder organization has without grants "
                                 "(public agencies twice that).", ge=0.0, le=100.0, unit="FTE",
                                 source=MODEL_SCALE)
    switching_cost: float = param(2.0, "Program effectiveness lost per unit share of strategy "
                                  "choices changed in a month (capped at all of it).", ge=0.0,
                                  le=10.0, unit="share per share changed",
                                  source="Implementation dip of organizational change")
    growth_limit: float = param(8.0, "Grant-funded staff an organization can absorb well; "
                                "beyond it, more money buys less.", ge=0.1, le=1000.0,
                                unit="FTE",
                                source=CALIBRATED)
    adjust_months: float = param(4.4, "Time constant for effort and capacity to follow their "
                                 "targets.", ge=1.0, le=120.0, unit="months",
                                 source=FITTED)


class Problem(Section):
    type: ProblemType = param("complex", "simple | complicated | complex (Kania & Kramer 2011; "
                              "Westley, Zimmerman & Patton 2006). Sets the fields left unset.",
                              source="Glouberman & Zimmerman 2002")
    indicators: int = param(6, "Population indicators (outcome areas) the problem is measured by.",
                            ge=1, le=60, unit="indicators",
                            source="Kania & Kramer 2011 (Strive tracked 53 indicators)")
    strategy_bits: int = param(12, "N: binary design choices that make up a strategy (at "
                               "most 24 when choices interact, K > 0).", ge=1, le=64, unit="choices",
                               source="Kauffman 1993; March 1991 (m)")
    interdependence: int | None = param(None, "K: how many other choices each choice's payoff "
                                        "depends on (0 = separable). Unset: from the type.",
                                        ge=0, le=23, unit="choices", source="Kauffman 1993")
    across_organizations: float = param(
        0.0, "Share of each choice's K dependencies that lie across organizations: the "
        "contribution reads that choice as the field's prevailing practice holds it (what most "
        "grantees do), which no organization changes alone. 0: every dependency is within the "
        "organization's own program.", ge=0.0, le=1.0, unit="share",
        source="Rivkin & Siggelkow 2003 (interactions across units of a decentralized design)")
    landscape: Literal["nk", "needle"] = param(
        "nk", "nk: random payoffs per choice pattern; needle: one right answer per choice "
        "(March 1991's reality, needs interdependence 0).", source="Kauffman 1993; March 1991")
    score_exponent: float = param(8.0, "Program quality = (payoff / best payoff) ** exponent.",
                                  ge=1.0, le=16.0, unit="exponent",
                                  source="Lazer & Friedman 2007, p. 677")
    coupling: float | None = param(None, "How much progress on one indicator needs progress on "
                                   "the others. Unset: from the type.", ge=0.0, le=1.0, unit="share",
                                   source="Glouberman & Zimmerman 2002 (interdependence)")
    delay_months: float | None = param(None, "Time constant between effort and indicator "
                                       "response. Unset: from the type.", ge=1.0, le=120.0,
                                       unit="months",
                                       source=RESULTS_TAKE_YEARS)
    scale_threshold: float | None = param(None, "Effort, relative to effort_scale, below which "
                                          "an indicator barely responds. Unset: from the type.",
                                          ge=0.0, le=5.0, unit="share of even spread",
                                          source="Glouberman & Zimmerman 2002 (complicated: scale)")
    strategy_dependence: float = param(0.7, "How much program quality depends on the "
                                       "strategy's payoff (0: any design works). The same for "
                                       "every problem type: how hard the best design is to find "
                                       "comes from K alone.", ge=0.0, le=1.0, unit="share",
                                       source="Lazer & Friedman 2007 (performance from the "
                                       "landscape)")
    effort_scale: float = param(5.0, "Staff on one indicator that moves it at the full "
                                "responsiveness rate, per grantee organization in the field "
                                "and indicator share: an indicator's scale is effort_scale x "
                                "grantees / indicators FTE, so results do not depend on the "
                                "field's size.", ge=0.01, le=1e6, unit="FTE per grantee",
                                source=MODEL_SCALE)
    absorptive_capacity: float = param(1.5, "Effort one indicator absorbs before extra effort "
                                       "is duplication, relative to its scale.", ge=0.05,
                                       le=10.0, unit="share of scale", source=CALIBRATED)
    context_gap: float | None = param(None, "Effectiveness lost by programs designed without "
                                      "the community's context (no context expertise). "
                                      "Unset: from the type.", ge=0.0, le=1.0,
                                      unit="share", source="FSG 2012")
    baseline: float = param(0.3, "Starting level of every indicator.", ge=0.01, le=0.9,
                            unit="index 0..1",
                            source=MODEL_SCALE)
    responsiveness: float = param(0.05, "Indicator gain per month per unit of effective effort "
                                  "(in units of effort_scale).", ge=0.0, le=1.0, unit="1/month",
                                  source=CALIBRATED)
    decay: float = param(0.019, "Monthly pull of indicators back to where they would be "
                         "without the field's effort (their background level).",
                         ge=0.0, le=1.0, unit="1/month",
                         source=FITTED)
    trend_sd: float = param(0.058, "Spread of the indicators' own trends: each indicator's "
                            "background level drifts by a normal draw with this standard "
                            "deviation, per year, fixed for the run (some improve, some "
                            "worsen, without anyone's effort).", ge=0.0, le=0.2,
                            unit="index points/year",
                            source="Kania & Kramer 2011 (34 of Strive's 53 indicators "
                            "trended positive, the others not); size: " + FITTED)
    shock_sd: float = param(0.005, "Standard deviation of monthly shocks to each indicator's "
                            "background level (a random walk around its trend).", ge=0.0,
                            le=0.1, unit="index points/month^0.5", source=MODEL_SCALE)
    measurement_noise: float = param(0.03, "Standard deviation of the error in a month's "
                                     "measurement of an indicator (sampling, definitions). "
                                     "indicators_improving compares the last 12 months' "
                                     "measurements with the launch year's.", ge=0.0, le=0.5,
                                     unit="index points", source="Assumption: indicators read from surveys and "
                                     "administrative records carry error; its size is not "
                                     "measured here")
    turbulence: float = param(0.0, "p4: monthly chance that each choice's right answer flips.",
                              ge=0.0, le=1.0, unit="1/month", source="March 1991, p. 80")
    initial_beliefs: Literal["decided", "march"] = param(
        "decided", "decided: every choice is held; march: March's program, each choice -1, 0 or "
        "+1 equally likely, members act on undecided choices by coin flip, the agenda learns "
        "from the actions that beat it and socializes one step at a time (needs the needle "
        "landscape).", source="March 1991, pp. 73-74")


class Conditions(Section):
    common_agenda: float = param(0.9, "Strength of the shared agenda partners are socialized to.",
                                 ge=0.0, le=1.0, unit="0..1", source="Kania & Kramer 2011")
    shared_measurement: float = param(0.9, "Chance a partner's results are measured and seen.",
                                      ge=0.0, le=1.0, unit="0..1", source="Kania & Kramer 2011")
    mutually_reinforcing: float = param(0.9, "How strongly partners move effort to uncovered "
                                        "needs instead of duplicating.", ge=0.0, le=1.0,
                                        unit="0..1", source="Kania & Kramer 2011")
    continuous_communication: float = param(0.9, "Monthly chance that two network neighbours "
                                            "meet.", ge=0.0, le=1.0, unit="1/month",
                                            source="Kania & Kramer 2011")
    inclusive_decisions: float = param(0.8, "Weight of the people most affected in setting the "
                                       "agenda's priorities.", ge=0.0, le=1.0, unit="0..1",
                                       source="Collective Impact 3.0")
    priority_months: float = param(12.0, "Time constant for the agenda's priorities to move "
                                   "towards the real needs (with full inclusion).", ge=1.0,
                                   le=600.0, unit="months",
                                   source="Collective Impact 3.0: community voice")
    self_organized_efficacy: float = param(0.2, "How well a condition works with no backbone "
                                           "support and no meetings yet among partners, as a "
                                           "share of a fully supported one; partners' own "
                                           "meetings add the rest (ODD 7.5).",
                                           ge=0.0, le=1.0, unit="share",
                                           source="Provan & Kenis 2008 (shared governance)")
    working_group_size: int = param(8, "Largest working group: once the strategic direction is "
                                    "set, partners at the table form groups of at most this "
                                    "many around the areas they work on, and meet within them "
                                    "(0: no working groups).", ge=0, le=50,
                                    unit="organizations",
                                    source="Hanleybrown, Kania & Kramer 2012 (cascading levels "
                                           "of linked collaboration; groups of 7-10)")
    groups_month: int = param(9, "Month the working groups form: phase III, organize for "
                              "impact, after about 3 months assessing readiness and 4-6 "
                              "initiating action.", ge=0, le=1200, unit="months",
                              source="Hanleybrown, Kania & Kramer 2012 (phases I-V)")
    regroup_months: int = param(3, "Months between reviews of the working groups (partners "
                                "who joined find a group, groups follow where partners "
                                "work).", ge=1, le=120, unit="months",
                                source="Hanleybrown, Kania & Kramer 2012 (groups change over "
                                       "time)")
    transaction_cost: float = param(0.08, "Share of a partner's capacity spent on coordination.",
                                    ge=0.0, le=0.9, unit="share",
                                    source="Witesman & Heiss 2016")
    setup_cost: float = param(0.57, "Extra share of capacity spent on set-up in the first "
                                   "months (phases I-III).", ge=0.0, le=0.9, unit="share",
                              source="Hanleybrown, Kania & Kramer 2012 (phases); value: "
                              + FITTED)
    setup_months: float = param(12.0, "Time constant of the set-up cost.", ge=0.0, le=120.0,
                                unit="months", source="Phases I-III take about 12-15 months")


class Backbone(Section):
    enabled: bool = param(True, "Whether a backbone organization exists.",
                          source="Kania & Kramer 2011 (backbone support)")
    budget_share: float = param(0.08, "Share of the funding pool paid to the backbone.",
                                ge=0.0, le=1.0, unit="share",
                                source="Backbones are 1-6 FTE (Turner et al. 2012)")
    staff_cost: float = param(10.0, "Cost of one backbone FTE.", ge=0.1, le=1e6,
                              unit="money/FTE-month",
                              source=MODEL_SCALE)
    vision: float = param(1.0, "Focus on guiding vision and strategy (partners commit to the "
                          "agenda; the agenda learns from partners).",
                          ge=0.0, le=1.0, unit="weight", source="Turner et al. 2012")
    activities: float = param(1.0, "Focus on supporting aligned activities (less duplication, "
                              "lower transaction costs).", ge=0.0, le=1.0, unit="weight",
                              source=BACKBONE_ROLES)
    measurement: float = param(1.0, "Focus on shared measurement practices.", ge=0.0, le=1.0,
                               unit="weight",
                               source=BACKBONE_ROLES)
    public_will: float = param(1.0, "Focus on building public will: residents volunteer, so "
                               "nonprofits and community groups gain staff.",
                               ge=0.0, le=1.0, unit="weight",
                               source=BACKBONE_ROLES)
    policy: float = param(1.0, "Focus on advancing policy: public agencies redirect their "
                          "programs to the agenda and add budget.", ge=0.0, le=1.0,
                          unit="weight",
                          source=BACKBONE_ROLES)
    resources: float = param(1.0, "Focus on mobilizing resources (pool renewed and grown).",
                             ge=0.0, le=1.0, unit="weight",
                             source=BACKBONE_ROLES)
    half_staff: float = param(0.75, "FTE on one function, per 100 partner organizations, that "
                              "delivers half its full effect (a larger field needs more backbone "
                              "staff for the same support).", ge=0.01, le=100.0,
                              unit="FTE per 100 partners", source=CALIBRATED)
    max_effect: float = param(0.5, "Largest effect of public will (volunteer staff), policy "
                              "(public agencies' added budget) and resource mobilization "
                              "(pool renewed), each fully staffed, as a share of what there "
                              "was.", ge=0.0, le=2.0, unit="share", source=CALIBRATED)
    systems_months: float = param(24.0, "Time constant for public will and policy work to pay "
                                  "off.", ge=1.0, le=240.0, unit="months",
                                  source=RESULTS_TAKE_YEARS)
    hiring_months: float = param(7.5, "Time constant for staff to follow the budget.",
                                 ge=0.0, le=60.0, unit="months",
                                 source=FITTED)
    imposes_agenda: float = param(0.0, "Failure mode: the backbone pushes its own agenda "
                                  "(fast socialization to it, slow learning from partners).",
                                  ge=0.0, le=1.0, unit="0..1", source="March 1991, Fig. 1")
    cut_year: float | None = param(None, "Year the backbone's funding stops (unset: never).",
                                   ge=0.0, le=100.0, unit="years",
                                   source=SHOCK)


class Preconditions(Section):
    champion: float = param(1.0, "An influential champion who brings leaders to the table.",
                            ge=0.0, le=1.0, unit="0..1", source="Hanleybrown et al. 2012")
    urgency: float = param(1.0, "Urgency for change.", ge=0.0, le=1.0, unit="0..1",
                           source="Hanleybrown et al. 2012")
    funding_years: float = param(5.0, "Years of committed funding (adequate resources).",
                                 ge=0.0, le=100.0, unit="years",
                                 source="Hanleybrown, Kania & Kramer 2012 (resources for at least "
                                 "two to three years); 5: assumption")
    champion_leaves_year: float | None = param(None, "Year the champion leaves (unset: never).",
                                               ge=0.0, le=100.0, unit="years",
                                               source=SHOCK)
    mobilization_months: float = param(6.0, "Time constant for an organization to join (or "
                                       "leave) once its motive passes (or falls below) its "
                                       "threshold.", ge=0.1, le=120.0, unit="months",
                                       source="Hanleybrown, Kania & Kramer 2012 (phases I-II)")
    reluctance: float = param(0.65, "Largest participation threshold: organizations' thresholds "
                              "are uniform on 0..reluctance (0: everyone takes part at once; "
                              "threshold model of Granovetter 1978).",
                              ge=0.0, le=1.0, unit="0..1", source=FITTED)


class Mindsets(Section):
    adaptive: float = param(0.8, "Share of organizations with adaptive (not technical) "
                            "solutions: they try variations and keep what works.", ge=0.0,
                            le=1.0, unit="share", source="FSG 2012 mindset shifts")
    silver_buckshot: float = param(0.8, "Share of the pool granted as a coordinated portfolio "
                                   "(not to the single best-attributed program).", ge=0.0,
                                   le=1.0, unit="share", source="FSG 2012")
    shared_credit: float = param(0.8, "Share of organizations treating credit as shared "
                                 "currency (not hoarding it).", ge=0.0, le=1.0, unit="share",
                                 source="FSG 2012")
    relationships: float = param(0.8, "Share of organizations learning from evidence and "
                                 "relationships (trusted partners), not evidence alone.",
                                 ge=0.0, le=1.0, unit="share", source="FSG 2012")
    context_expertise: float = param(0.8, "Share of organizations adding context expertise "
                                     "(community voice) to content expertise.", ge=0.0, le=1.0,
                                     unit="share", source="FSG 2012")


class Funding(Section):
    grant_per_organization: float = param(15.0, "Money funders give per month per grantee "
                                          "organization: the pool is this times the number "
                                          "of grantees, so results do not depend on the "
                                          "field's size.", ge=0.0, le=1e9,
                                          unit="money/month per grantee", source=MODEL_SCALE)
    rewards_attribution: float = param(0.5, "How much funders reward attributable results "
                                       "(competition for funding and credit).", ge=0.0, le=1.0,
                                       unit="0..1", source="Witesman & Heiss 2016")
    renewal: float = param(0.8, "Share of the pool renewed once committed funding ends.",
                           ge=0.0, le=1.0, unit="share",
                           source=CALIBRATED)
    cut_year: float | None = param(None, "Year the whole pool is cut (unset: never).", ge=0.0,
                                   le=100.0, unit="years",
                                   source=SHOCK)
    cut_fraction: float = param(0.0, "Fraction of the pool lost at cut_year.", ge=0.0, le=1.0,
                                unit="share",
                                source=SHOCK)
    funder_withdraws_year: float | None = param(None, "Year the largest funder leaves "
                                                "(unset: never).", ge=0.0, le=100.0, unit="years",
                                                source=SHOCK)
    fte_cost: float = param(10.0, "Cost of one program FTE.", ge=0.1, le=1e6,
                            unit="money/FTE-month",
                            source=MODEL_SCALE)


class Trust(Section):
    initial: float = param(0.3, "Trust between organizations at the start.", ge=0.0, le=1.0,
                           unit="0..1",
                           source="Gorobets & Nooteboom 2006 (trust starts low and builds)")
    build_rate: float = param(0.04, "Share of the gap to full trust closed by one good meeting.",
                              ge=0.0, le=1.0, unit="1/meeting", source="Gorobets & Nooteboom 2006")
    negativity_bias: float = param(3.0, "How many times faster a violation destroys trust than "
                                   "a good meeting builds it.", ge=1.0, le=20.0, unit="ratio",
                                   source="Slovic 1993 (trust asymmetry); 3: assumption, its "
                                   "consequence docked in docs/validation.md")
    violation_rate: float = param(0.56, "Chance that a meeting with a credit-hoarding partner "
                                  "under fully competitive funding is a violation.", ge=0.0,
                                  le=1.0, unit="1/meeting",
                                  source="Kania et al. 2014 (credit hoarding breaks trust); "
                                  "value: " + FITTED)


class Learning(Section):
    socialization_rate: float = param(0.05, "p1: monthly chance a partner adopts the agenda's "
                                      "view on a choice it disagrees with.", ge=0.0, le=1.0,
                                      unit="1/month", source="March 1991, p. 74")
    agenda_learning_rate: float = param(0.3, "p2: rate at which the agenda learns from partners "
                                        "doing better than it.", ge=0.0, le=1.0, unit="1/month",
                                        source="March 1991, p. 75")
    evidence_fidelity: float = param(0.25, "Chance an organization that learns from measured "
                                     "results alone copies each differing choice of a better "
                                     "peer's strategy; relationship-minded ones copy more, up "
                                     "to all with full trust in the peer.",
                                     ge=0.0, le=1.0, unit="probability",
                                     source="Szulanski 1996 (sticky knowledge transfer); "
                                     "Kania et al. 2014 (evidence and relationships)")
    exploration_rate: float = param(0.53, "Monthly chance an adaptive organization tries a "
                                    "variation of its strategy.", ge=0.0, le=1.0,
                                    unit="1/month",
                                    source="Lazer & Friedman 2007 (exploration); value: " + FITTED)
    imitation_rate: float = param(1.0, "Chance an organization looks at the neighbours it met "
                                  "this month and copies a better one.", ge=0.0, le=1.0,
                                  unit="1/month", source="Lazer & Friedman 2007 (velocity)")
    judges_by_results: bool = param(
        False, "Whether organizations judge strategies by their results, which show after the "
        "problem's delay (problem.delay_months): a variation is run for that long before it is "
        "kept or dropped, and peers and the agenda see results smoothed over it. False judges "
        "a variation at once on the landscape.",
        source="Sterman 1989; Rahmandad 2008 (delays slow learning from one's own experience); "
        "Levitt & March 1988 (learning from the experience of others)")
    turnover: float = param(0.015, "p3: monthly chance an organization's staff turns over and "
                            "its strategy is redrawn.", ge=0.0, le=1.0, unit="1/month",
                            source="March 1991, p. 79")
    network: Literal["small_world", "linear", "random", "full"] = param(
        "small_world", "Who can meet whom.", source="Lazer & Friedman 2007; Watts & Strogatz 1998")
    degree: int = param(6, "Neighbours per organization (small_world and random; linear has 2).",
                        ge=2, le=4999, unit="organizations",
                        source="Watts & Strogatz 1998; Lazer & Friedman 2007")
    rewiring: float = param(0.1, "Small-world rewiring probability.", ge=0.0, le=1.0,
                            unit="probability",
                            source="Watts & Strogatz 1998")


class Scenario(BaseModel):
    """A complete, validated parameter set: what one run of the model needs besides a seed."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = param("collective_impact", "Short name shown in tables and plots.")
    description: str = param("", "One or two sentences on what this scenario represents.")
    years: float = param(10.0, "Simulated time.", ge=1 / 12, le=100.0, unit="years",
                         source=RESULTS_TAKE_YEARS)
    organizations: Organizations = Field(default_factory=Organizations)
    problem: Problem = Field(default_factory=Problem)
    conditions: Conditions = Field(default_factory=Conditions)
    backbone: Backbone = Field(default_factory=Backbone)
    preconditions: Preconditions = Field(default_factory=Preconditions)
    mindsets: Mindsets = Field(default_factory=Mindsets)
    funding: Funding = Field(default_factory=Funding)
    trust: Trust = Field(default_factory=Trust)
    learning: Learning = Field(default_factory=Learning)

    @model_validator(mode="after")
    def _check_combinations(self) -> Scenario:
        problem = self.problem
        k = PROBLEM_TYPES[problem.type]["interdependence"] if problem.interdependence is None \
            else problem.interdependence
        if problem.landscape == "needle" and k > 0:
            raise ValueError(f"problem.interdependence: must be 0 with landscape = 'needle' "
                             f"(problem type {problem.type!r} implies {k}; set it to 0)")
        if problem.initial_beliefs == "march" and problem.landscape != "needle":
            raise ValueError("problem.initial_beliefs: 'march' (March's program) needs "
                             "landscape = 'needle', whose reality has a right and a wrong "
                             "answer on each choice")
        if k >= problem.strategy_bits:
            raise ValueError(f"problem.interdependence: must be below problem.strategy_bits "
                             f"({problem.strategy_bits}), got {k}")
        if k > 0 and problem.strategy_bits > 24:
            raise ValueError(f"problem.strategy_bits: at most 24 when choices interact "
                             f"(problem.interdependence = {k}), got {problem.strategy_bits}")
        if self.backbone.enabled and sum(getattr(self.backbone, f) for f in BACKBONE_FUNCTIONS) == 0:
            raise ValueError("backbone: at least one of " + ", ".join(BACKBONE_FUNCTIONS)
                             + " must be above 0")
        slots = self.meeting_slots()
        if slots > MAX_MEETING_SLOTS:
            count, network = self.organizations.count, self.learning.network
            neighbours, other = {
                "full": ("count - 1 neighbours in a full network", "choose a sparser "
                         "learning.network"),
                "linear": ("2 neighbours on a ring", "conditions.working_group_size")}.get(
                network, ("learning.degree", "learning.degree"))
            raise ValueError(
                f"organizations.count: {count:,} organizations x {slots // count:,} meeting "
                f"slots each ({neighbours} plus conditions.working_group_size - 1) = "
                f"{slots:,}, at most {MAX_MEETING_SLOTS:,} (memory grows with it); lower "
                f"organizations.count or {other}")
        if not self.backbone.enabled and self.backbone.cut_year is not None:
            raise ValueError("backbone.cut_year: cannot cut a backbone that is not enabled")
        if self.funding.funder_withdraws_year is not None \
                and self.grantees() == self.organizations.count:
            raise ValueError("funding.funder_withdraws_year: there is no funder to withdraw "
                             "(organizations.funder_share x organizations.count rounds to 0)")
        if not self.backbone.enabled and self.backbone.imposes_agenda > 0:
            raise ValueError("backbone.imposes_agenda: a backbone that is not enabled imposes "
                             "nothing; set it to 0 or enable the backbone")
        for dotted in ("backbone.cut_year", "preconditions.champion_leaves_year",
                       "funding.cut_year", "funding.funder_withdraws_year"):
            year = get_value(self, dotted)
            if year is not None and year > self.years:
                raise ValueError(f"{dotted}: year {year:g} is past the horizon of "
                                 f"{self.years:g} years")
        return self

    def meeting_slots(self) -> int:
        """Nominal size of the meeting lists, organizations x slots each: network neighbours
        (``learning.degree``, 2 on a ring, count - 1 in a full network) plus working-group
        mates (``conditions.working_group_size`` - 1). Memory and a month's work grow with
        it; the network a small-world or random graph draws may add a few slots."""
        count, learning = self.organizations.count, self.learning
        neighbours = {"linear": 2, "full": count - 1}.get(learning.network,
                                                            min(learning.degree, count - 1))
        return count * (neighbours + max(self.conditions.working_group_size - 1, 0))

    def grantees(self) -> int:
        """Organizations that are not funders (at least one)."""
        count = self.organizations.count
        return count - min(int(round(self.organizations.funder_share * count)), count - 1)

    def pool(self) -> float:
        """Money funders give per month before shocks: grant per organization x grantees."""
        return self.funding.grant_per_organization * self.grantees()

    def resolved(self) -> Scenario:
        """A copy with every problem field left unset filled in from the problem type."""
        fills = {key: value for key, value in PROBLEM_TYPES[self.problem.type].items()
                 if getattr(self.problem, key) is None}
        return self.model_copy(update={"problem": self.problem.model_copy(update=fills)})


SECTIONS = tuple(name for name, field in Scenario.model_fields.items()
                 if isinstance(field.default_factory, type))


def parameter_names() -> list[str]:
    """Every dotted parameter name, in declaration order (``years`` included)."""
    names = ["years"]
    for section in SECTIONS:
        names += [f"{section}.{field}" for field in Scenario.model_fields[section].annotation.model_fields]
    return names


def numeric_parameters() -> list[str]:
    """Dotted names of the parameters that take numbers (not choices or switches): what a
    sweep can vary over a range and a posterior can draw."""
    return [name for name in parameter_names()
            if describe(name)["type"] in (int, float, int | None, float | None)]


def describe(dotted: str) -> dict[str, Any]:
    """Declaration of one parameter: default, bounds, unit, meaning and source."""
    section, _, field_name = dotted.rpartition(".")
    owner = Scenario.model_fields[section].annotation if section else Scenario
    field = owner.model_fields[field_name]
    bounds = {"ge": None, "le": None}
    for meta in field.metadata:
        for key in bounds:
            if hasattr(meta, key):
                bounds[key] = getattr(meta, key)
    extra = field.json_schema_extra or {}
    return {"name": dotted, "default": field.default, "low": bounds["ge"], "high": bounds["le"],
            "unit": extra.get("unit", ""), "meaning": field.description or "",
            "source": extra.get("source", ""), "type": field.annotation}


def get_value(scenario: Scenario, dotted: str) -> Any:
    """Value of a parameter by its dotted name."""
    owner, _, field_name = dotted.rpartition(".")
    return getattr(getattr(scenario, owner) if owner else scenario, field_name)


def parameter_aliases() -> dict[str, str]:
    """Every name a parameter can be given by in Python, mapped to its dotted name.

    A parameter is known by its dotted name (``conditions.common_agenda``), by the same name
    as a Python identifier (``conditions_common_agenda``: section and field joined by ``_``,
    for tools such as EMA Workbench that need identifiers) and by its field name alone where
    no other section has a field of that name (``common_agenda``; ``cut_year`` is in two
    sections, so it must be given as ``backbone_cut_year`` or ``funding_cut_year``).
    """
    aliases: dict[str, str] = {}
    by_field: dict[str, list[str]] = {}
    for dotted in parameter_names():
        aliases[dotted] = dotted
        aliases[dotted.replace(".", "_")] = dotted
        by_field.setdefault(dotted.rpartition(".")[2], []).append(dotted)
    for field_name, owners in by_field.items():
        if len(owners) == 1:
            aliases.setdefault(field_name, owners[0])
    return aliases


def resolve_names(parameters: dict[str, Any], source: str) -> dict[str, Any]:
    """Parameters given by any name of :func:`parameter_aliases`, by dotted name.

    Raises:
        ValueError: one line naming ``source`` and the key, for an unknown or ambiguous
            name, or for one parameter given twice under two names.
    """
    if not parameters:  # a model built from a scenario as it is: nothing to resolve
        return {}
    import difflib

    aliases = parameter_aliases()
    by_field: dict[str, list[str]] = {}
    for dotted in parameter_names():
        by_field.setdefault(dotted.rpartition(".")[2], []).append(dotted)
    resolved: dict[str, Any] = {}
    given_as: dict[str, str] = {}
    for key, value in parameters.items():
        dotted = aliases.get(key)
        if dotted is None:
            if len(by_field.get(key, [])) > 1:
                options = " or ".join(f"'{name}' ({name.replace('.', '_')})"
                                      for name in by_field[key])
                raise ValueError(f"{source}: '{key}' is in several sections; give {options}")
            close = difflib.get_close_matches(key, list(aliases), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"{source}: unknown parameter '{key}'{hint}; the parameters are "
                             f"listed in docs/ODD.md")
        if dotted in resolved:
            raise ValueError(f"{source}: '{given_as[dotted]}' and '{key}' both set {dotted}; "
                             f"give one of them")
        resolved[dotted] = value
        given_as[dotted] = key
    return resolved
