"""Workshop presets: before/after contrasts a trainer can show a room, with read-aloud text.

A workshop shows two runs of the model side by side on the same seed. The *after* run is
what the controls say (by default the ``collective_impact`` built-in scenario); the *before*
run is the same field with a preset's differences applied on top, for example isolated impact,
or one mindset shift not made. Because both runs share the seed, they have the same
organizations, the same network and the same problem: every difference between the two
trajectories comes from the preset's contrast.

Presets take their contrasts from the built-in scenario files (``credit_hoarded.toml``,
``backbone_cut_year3.toml``...), so the workshop, the command line and the notebooks show
the same stories. The controls, the presets and :class:`BeforeAfter` are shared by the
page (:mod:`ci_sim.app`) and the slide figures (:mod:`ci_sim.figures`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from ci_sim.model import STEPS_PER_YEAR, CollectiveImpactModel
from ci_sim.model.params import PROBLEM_TYPES, Scenario, get_value
from ci_sim.errors import InputError
from ci_sim.model.scenarios import builtin_path, load_scenario, read_toml

#: The scenario the controls start from.
REFERENCE = "collective_impact"

#: Built-in scenario in which each mindset shift is *not* made (FSG 2012).
UNSHIFTED_SCENARIO = {
    "adaptive": "technical_solutions",
    "silver_buckshot": "silver_bullet",
    "shared_credit": "credit_hoarded",
    "relationships": "evidence_only",
    "context_expertise": "content_only",
}


@dataclass(frozen=True)
class Control:
    """One workshop control: which parameter it sets and how it is shown.

    ``kind`` is ``slider`` (a number within ``low..high``), ``toggle`` (on/off), ``mindset``
    (a toggle between the built-in scenarios' shifted and unshifted levels of a mindset share)
    or ``choice`` (one of ``choices``). ``shows`` is how a slider's value is read out to the
    room, a format string of ``value`` with its unit ("8% of the funding pool").
    """

    name: str
    parameter: str
    label: str
    kind: Literal["slider", "toggle", "mindset", "choice"]
    group: str
    low: float = 0.0
    high: float = 1.0
    step: float = 0.05
    choices: tuple[str, ...] = ()
    on_label: str = ""
    off_label: str = ""
    shows: str = "{value:.2f} on a 0-1 scale"

    def reading(self, value: Any) -> str:
        """The control's value in words, with its unit, as the page shows it."""
        if self.kind == "toggle":
            return "on" if value else "off"
        if self.kind == "mindset":
            shifted, unshifted = mindset_levels(self.name)
            share = shifted if value else unshifted
            return (f"{self.on_label if value else self.off_label} "
                    f"(shift made by {share:.0%} of organizations)")
        if self.kind == "choice":
            return str(value)
        return self.shows.format(value=value)


#: The workshop controls, in the order the page shows them.
CONTROLS: tuple[Control, ...] = (
    Control("problem_type", "problem.type", "Problem type", "choice", "Problem",
            choices=tuple(PROBLEM_TYPES)),
    Control("organizations", "organizations.count", "Organizations", "slider", "Problem",
            low=10, high=200, step=5, shows="{value:.0f} organizations"),
    Control("backbone", "backbone.enabled", "Backbone organization", "toggle", "Backbone"),
    Control("budget_share", "backbone.budget_share", "Backbone budget share",
            "slider", "Backbone", high=0.4, step=0.01, shows="{value:.0%} of the funding pool"),
    Control("common_agenda", "conditions.common_agenda", "Common agenda", "slider", "Conditions"),
    Control("shared_measurement", "conditions.shared_measurement", "Shared measurement",
            "slider", "Conditions", shows="{value:.0%} chance a partner's results are seen"),
    Control("mutually_reinforcing", "conditions.mutually_reinforcing",
            "Mutually reinforcing", "slider", "Conditions"),
    Control("continuous_communication", "conditions.continuous_communication",
            "Continuous communication", "slider", "Conditions",
            shows="{value:.0%} chance a month that two neighbours meet"),
    Control("inclusive_decisions", "conditions.inclusive_decisions",
            "Inclusive decision-making", "slider", "Conditions"),
    Control("shared_credit", "mindsets.shared_credit", "Credit", "mindset", "Mindset shifts",
            on_label="credit as shared currency", off_label="credit hoarded"),
    Control("silver_buckshot", "mindsets.silver_buckshot", "Funding", "mindset",
            "Mindset shifts", on_label="silver buckshot", off_label="silver bullet"),
    Control("adaptive", "mindsets.adaptive", "Solutions", "mindset", "Mindset shifts",
            on_label="adaptive", off_label="technical"),
    Control("relationships", "mindsets.relationships", "Learning", "mindset", "Mindset shifts",
            on_label="evidence and relationships", off_label="evidence only"),
    Control("context_expertise", "mindsets.context_expertise", "Expertise", "mindset",
            "Mindset shifts", on_label="content and context", off_label="content only"),
    Control("rewards_attribution", "funding.rewards_attribution",
            "Funders reward attribution", "slider", "Funding",
            shows="{value:.2f} (0: fit with the agenda, 1: attributable results)"),
    Control("champion", "preconditions.champion", "Influential champion", "slider",
            "Preconditions", shows="{value:.2f} (0: none, 1: influential)"),
    Control("urgency", "preconditions.urgency", "Urgency for change", "slider", "Preconditions"),
    Control("funding_years", "preconditions.funding_years", "Committed funding (years)",
            "slider", "Preconditions", low=0, high=10, step=0.5, shows="{value:g} years"),
)
CONTROLS_BY_NAME = {control.name: control for control in CONTROLS}


def scenario_differences(name: str) -> dict[str, Any]:
    """What a built-in scenario file sets, as dotted names (its name and description aside)."""
    table, _ = read_toml(builtin_path(name))
    flat: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            elif f"{prefix}{key}" not in ("name", "description"):
                flat[f"{prefix}{key}"] = value

    walk(table, "")
    return flat


@cache
def mindset_levels(control_name: str) -> tuple[float, float]:
    """(shifted, unshifted) share of a mindset: the reference scenario's value and the value
    in the built-in scenario where that shift is not made."""
    parameter = CONTROLS_BY_NAME[control_name].parameter
    reference, _ = load_scenario(REFERENCE)
    unshifted = scenario_differences(UNSHIFTED_SCENARIO[control_name])[parameter]
    return float(get_value(reference, parameter)), float(unshifted)


def default_settings() -> dict[str, Any]:
    """Control values of the reference scenario."""
    reference, _ = load_scenario(REFERENCE)
    settings = {}
    for control in CONTROLS:
        value = get_value(reference, control.parameter)
        if control.kind == "mindset":
            shifted, unshifted = mindset_levels(control.name)
            value = abs(value - shifted) <= abs(value - unshifted)
        settings[control.name] = value
    return settings


def settings_overrides(settings: dict[str, Any]) -> dict[str, Any]:
    """Dotted parameter overrides the control values stand for."""
    overrides = {}
    for name, value in settings.items():
        if name not in CONTROLS_BY_NAME:
            raise InputError(f"workshop settings: unknown control '{name}' "
                             f"(allowed: {', '.join(CONTROLS_BY_NAME)})")
        control = CONTROLS_BY_NAME[name]
        if control.kind == "mindset":
            value = mindset_levels(name)[0 if value else 1]
        elif control.parameter == "organizations.count":
            value = int(round(value))
        overrides[control.parameter] = value
    return overrides


@dataclass(frozen=True)
class Preset:
    """A before/after story for a workshop.

    Attributes:
        name: identifier used by ``ci-sim figures --preset``.
        title: what the room sees as the heading.
        before_label, after_label: legend labels of the two runs.
        before: built-in scenario whose differences make the *before* run, or dotted
            parameter overrides.
        settings: control values this story starts from (the rest: the reference scenario).
        read_aloud: two or three sentences for the trainer to read, saying what to watch.
        headline: the metric (of :data:`ci_sim.model.METRICS`) the story is about; slide
            titles state its final difference.
    """

    name: str
    title: str
    before_label: str
    after_label: str
    before: str | dict[str, Any]
    read_aloud: str
    settings: dict[str, Any] = field(default_factory=dict)
    kind: Literal["mindset shift", "classic story"] = "classic story"
    headline: str = "outcome"

    def before_overrides(self) -> dict[str, Any]:
        """Dotted overrides that turn the after run into the before run."""
        if isinstance(self.before, str):
            return scenario_differences(self.before)
        return dict(self.before)

    def start_settings(self) -> dict[str, Any]:
        """The control values this story starts from."""
        return {**default_settings(), **self.settings}


PRESETS: tuple[Preset, ...] = (
    Preset(
        "isolated_vs_collective", "Isolated impact or collective impact",
        "Before: isolated impact", "After: collective impact", "isolated_impact",
        "On the left, each funder picks its grantees and every organization runs its own "
        "program and competes for credit. On the right, the same organizations share an agenda, "
        "measure the same things, talk every month and have a backbone. Watch the first two "
        "years, when collective impact pays its set-up costs, and then watch which line is on "
        "top in years five to ten."),
    Preset(
        "technical_vs_adaptive", "From technical to adaptive solutions",
        "Before: technical solutions", "After: adaptive solutions", "technical_solutions",
        "Before, most organizations apply a fixed best practice; after, they try variations and "
        "keep what works. The problem is complex: a good move depends on what the others do. "
        "Watch the population outcome, and how far apart the two lines are by the end.",
        kind="mindset shift"),
    Preset(
        "silver_bullet_vs_buckshot", "From silver bullet to silver buckshot",
        "Before: silver bullet", "After: silver buckshot", "silver_bullet",
        "Before, funders pour the pool into the program with the best attributed results; after, "
        "they fund a coordinated portfolio. Watch funding concentration, and watch the network: "
        "under the silver bullet one or two circles grow large while the rest shrink. Then ask "
        "the room whether the outcome followed the money.", kind="mindset shift",
        headline="funding_gini"),
    Preset(
        "credit_hoarded_vs_shared", "From credit hoarded to credit as shared currency",
        "Before: credit hoarded", "After: credit shared", "credit_hoarded",
        "Before, most organizations claim attribution for shared results, and their partners "
        "feel it as a breach of trust; after, credit is a shared currency. Watch the mean trust "
        "line and the lines of the network: trust builds slowly and breaks fast.",
        kind="mindset shift", headline="mean_trust"),
    Preset(
        "evidence_vs_relationships", "From evidence alone to evidence and relationships",
        "Before: evidence only", "After: evidence and relationships", "evidence_only",
        "Before, organizations learn only from results they can measure; after, they also learn "
        "from partners they trust. Watch the mean trust line and the population outcome, and "
        "ask how much of learning travels through relationships.", kind="mindset shift"),
    Preset(
        "content_vs_context", "From content expertise to content and context expertise",
        "Before: content expertise only", "After: content and context expertise", "content_only",
        "Before, programs are designed by content experts without the community's view; after, "
        "community voice shapes them too. Community groups bring context in both runs. Watch "
        "the population outcome: how much do programs lose when they miss the context?",
        kind="mindset shift"),
    Preset(
        "backbone_cut_year3", "The backbone is cut in year 3",
        "Before: backbone cut in year 3", "After: backbone kept", "backbone_cut_year3",
        "Both runs start the same. In year three the backbone on the left loses its funding and "
        "its staff leave. Watch agenda alignment after year three: does it decay, or has trust "
        "grown strong enough to hold the partners together?", headline="agenda_alignment"),
    Preset(
        "funders_reward_attribution", "Funders reward attribution",
        "Before: funders reward attribution", "After: funders reward portfolio fit",
        {"funding.rewards_attribution": 1.0},
        "On the left, funders pay for results an organization can claim as its own; on the "
        "right, they pay for fit with the shared agenda. Attribution turns credit hoarding into "
        "a breach of trust. Watch funding concentration and mean trust.",
        settings={"rewards_attribution": 0.0}, headline="mean_trust"),
    Preset(
        "coalition_without_backbone", "A coalition without a backbone",
        "Before: coalition, no backbone", "After: with a backbone", "coalition_no_backbone",
        "Both runs have the same partners, conditions and mindsets; on the left nobody is paid "
        "to hold the work together, and the backbone's share goes to programs instead. Watch "
        "agenda alignment and the gateway each run reaches.", headline="agenda_alignment"),
    Preset(
        "backbone_imposes_agenda", "The backbone imposes its own agenda",
        "Before: backbone imposes its agenda", "After: backbone learns from partners",
        "backbone_imposes_agenda",
        "On the left the backbone sets the agenda and drives partners to it; on the right it "
        "learns from the partners who do best. Watch agenda alignment: partners can be well "
        "aligned to the wrong answer. Then compare the population outcome."),
    Preset(
        "missing_preconditions", "Missing preconditions",
        "Before: no champion, no urgency, one year of funding", "After: preconditions in place",
        "missing_preconditions",
        "An initiative needs an influential champion, urgency for change and committed funding. "
        "On the left none of them is there, so no organization has a reason to come to the "
        "table and none does: the left run stays at Exploring by the model's rules, not by "
        "chance. Watch what the right run builds that the left one never starts.",
        headline="agenda_alignment"),
    Preset(
        "simple_problem", "A simple problem",
        "Before: isolated impact", "After: collective impact", "isolated_impact",
        "Now the problem is simple: each design choice can be got right on its own, and each "
        "indicator responds on its own and at once. Collaboration still costs meetings and "
        "set-up time. Watch the population outcome and ask the room whether collective impact "
        "is worth its overhead here.",
        settings={"problem_type": "simple"}),
)
PRESETS_BY_NAME = {preset.name: preset for preset in PRESETS}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; :class:`InputError` naming the allowed ones otherwise."""
    if name not in PRESETS_BY_NAME:
        raise InputError(f"--preset: unknown preset '{name}' "
                         f"(allowed: {', '.join(PRESETS_BY_NAME)}, all)")
    return PRESETS_BY_NAME[name]


def before_after(preset: Preset, settings: dict[str, Any] | None = None
                 ) -> tuple[Scenario, Scenario]:
    """The before and after scenarios of a preset under the given control values.

    Raises:
        InputError: if a combination is invalid (e.g. cutting a backbone that is switched off).
    """
    settings = preset.start_settings() if settings is None else settings
    after_overrides = settings_overrides(settings)
    after, _ = load_scenario(REFERENCE, {**after_overrides, "name": "after"})
    before, _ = load_scenario(REFERENCE, {**after_overrides, **preset.before_overrides(),
                                          "name": "before"})
    return before, after


class BeforeAfter:
    """Two runs of the model on the same seed, stepped together one month at a time.

    Args:
        preset: the story (what differs between the runs).
        settings: control values (default: the preset's starting values).
        seed: seed of both runs.
        month: months to run straight away (used to replay a changed setting up to the
            month the room is looking at).
        engine: model engine, ``numba`` or ``python``.
    """

    def __init__(self, preset: Preset, settings: dict[str, Any] | None = None, *, seed: int = 0,
                 month: int = 0, engine: str = "numba") -> None:
        self.preset = preset
        self.settings = preset.start_settings() if settings is None else dict(settings)
        self.seed = int(seed)
        before, after = before_after(preset, self.settings)
        self.before = CollectiveImpactModel(before, engine_name=engine, record="none",
                                            rng=self.seed)
        self.after = CollectiveImpactModel(after, engine_name=engine, record="none",
                                           rng=self.seed)
        self.horizon = int(round(after.years * STEPS_PER_YEAR))
        self.running = self.month < self.horizon
        self.advance(month)

    @property
    def month(self) -> int:
        """Months simulated so far."""
        return self.after.steps

    def step(self) -> None:
        """Advance both runs by one month (nothing once the horizon is reached)."""
        if self.month >= self.horizon:
            self.running = False
            return
        self.before.step()
        self.after.step()
        self.running = self.month < self.horizon

    def advance(self, months: int) -> None:
        """Advance both runs by up to ``months`` months."""
        for _ in range(max(0, min(months, self.horizon - self.month))):
            self.step()
