"""The workshop page: two runs of the Collective Impact model side by side, for a room.

Run it with ``ci-sim workshop`` (or ``solara run ci_sim.app:page``). A trainer picks a story
(:data:`ci_sim.presets.PRESETS`), reads its text aloud, presses play, and flips the controls:
each change replays both runs on the same seed up to the month the room is looking at, so the
charts move at once. The page works offline: matplotlib images only, and the front end served
from the locally installed ``solara-assets``.

Built around a :class:`ci_sim.presets.BeforeAfter` pair of
:class:`ci_sim.model.CollectiveImpactModel` runs. The page does not use Mesa's ``SolaraViz``
or its ``ModelController``: their parameter controls only take effect on reset, cannot be
moved by a preset and drive one model, their Play button is an unlabelled icon whose speed
depends on how long a redraw takes, while a room needs a labelled Play that covers ten years
in half a minute, a jump to any year, and a flipped toggle that changes the picture at once.
"""

from __future__ import annotations

import os
import time
import warnings
from html import escape
from typing import Any

import matplotlib
import solara
from matplotlib.figure import Figure

from ci_sim import __version__
from ci_sim.errors import InputError
from ci_sim.figures import (
    RUN_STYLES, NetworkPicture, draw_metrics, history_frame, network_layout, sector_legend,
    short_label,
)
from ci_sim.model import GATEWAYS, STEPS_PER_YEAR
from ci_sim.model.params import describe
from ci_sim.serving import check_address
from ci_sim.presets import (
    CONTROLS, CONTROLS_BY_NAME, PRESETS, PRESETS_BY_NAME, BeforeAfter, Control, Preset,
    settings_overrides,
)

#: Style of the page's charts: at least 18 pt, read from the back of a room when the page
#: fills a 1920 x 1080 projector (figures are drawn at the size they are shown).
PAGE_STYLE = {"font.size": 18, "axes.titlesize": 20, "axes.labelsize": 18,
              "xtick.labelsize": 18, "ytick.labelsize": 18, "legend.fontsize": 18,
              "axes.spines.top": False, "axes.spines.right": False}
#: Width of the page's charts in inches at 100 dpi: the main column at 1920 pixels.
CHART_WIDTH = 15.0
#: Play speeds, months a second: 10 years take 40, 30 or 20 seconds.
PLAY_SPEEDS = (3, 4, 6)
#: The speed Play starts at: 10 years in 30 seconds.
DEFAULT_SPEED = 4


def contrast_lines(preset: Preset, settings: dict[str, Any]) -> list[str]:
    """What the before run changes, one line per parameter: meaning, before and after value."""
    after = settings_overrides(settings)
    lines = []
    for dotted, value in preset.before_overrides().items():
        declared = describe(dotted)
        now = after.get(dotted, declared["default"])
        lines.append(f"{declared['meaning'].rstrip('.')} ({dotted}): before {value!r}, "
                     f"after {now!r}")
    return lines


def refusal_message(preset: Preset, control: Control | None, error: InputError) -> str:
    """A refused combination in the room's language: what cannot be done, why, and what to do
    instead. The page puts the control back where it was."""
    cut_year = preset.before_overrides().get("backbone.cut_year")
    if control is not None and control.name == "backbone" and cut_year is not None:
        return (f"This story cuts the backbone in year {cut_year:g}, so both runs need a "
                "backbone: it stays on. To show a field without a backbone, choose the story "
                "'coalition_without_backbone'.")
    reason = str(error).rsplit(": ", 1)[-1]
    for other in CONTROLS:
        reason = reason.replace(other.parameter, f"'{other.label}'")
    what = f"That change to '{control.label}'" if control is not None else "That change"
    return (f"{what} cannot be combined with the story '{preset.title}' ({reason}). "
            "The control is back where it was.")


@solara.component
def ControlInput(control: Control, value: Any, on_value, revision: int = 0) -> None:
    """One control, as the widget its kind calls for, with its value and unit in the label.

    ``revision`` changes when the page refused a change: the widget, which the browser has
    already moved, is then set back to ``value`` (solara only sends values that changed
    since the last drawing, and ``value`` did not).
    """
    label = f"{control.label}: {control.reading(value)}"
    if control.kind == "choice":
        solara.Text(label)
        # No combination refuses a problem type, and a toggle group has no single widget.
        solara.ToggleButtonsSingle(value=value, values=list(control.choices), on_value=on_value)
        widget = shown = None
    elif control.kind in ("toggle", "mindset"):
        widget = solara.Switch(label=label, value=bool(value), on_value=on_value)
        shown = bool(value)
    elif control.parameter == "organizations.count":
        # The reading above the slider: beside it, a long label leaves no room for the track.
        solara.Text(label, classes=["ci-reading"])
        widget = solara.SliderInt("", value=int(value), min=int(control.low),
                                  max=int(control.high), step=int(control.step),
                                  on_value=on_value)
        shown = int(value)
    else:
        solara.Text(label, classes=["ci-reading"])
        widget = solara.SliderFloat("", value=float(value), min=control.low,
                                    max=control.high, step=control.step, on_value=on_value)
        shown = float(value)

    def put_back() -> None:
        if revision and widget is not None:
            solara.get_widget(widget).v_model = shown

    solara.use_effect(put_back, [revision])


@solara.component
def NetworksView(runs: BeforeAfter, frame: int) -> None:
    """Both trust networks at the current month (``frame`` changes when the runs advance)."""
    positions = solara.use_memo(lambda: network_layout(runs.after.network, runs.seed),
                                dependencies=[runs.seed, runs.after.network.number_of_nodes(),
                                              tuple(runs.after.network.edges())])
    with matplotlib.rc_context(PAGE_STYLE):
        # Fixed layouts: a constrained layout would more than double the time per update.
        figure = Figure(figsize=(CHART_WIDTH, 6.2))
        figure.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.1, wspace=0.05)
        for axis, name, label in zip(figure.subplots(1, 2), ("before", "after"),
                                     (runs.preset.before_label, runs.preset.after_label)):
            model = getattr(runs, name)
            NetworkPicture(axis, model, positions).update(
                model, f"{short_label(label)}\ngateway: "
                       f"{GATEWAYS[int(model.metrics['gateway'])]}")
            axis.title.set_color(RUN_STYLES[name]["color"])
        sector_legend(figure, loc="lower center", ncols=5, handletextpad=0.1,
                      columnspacing=1.2)
    solara.FigureMatplotlib(figure, format="png", dpi=100)


@solara.component
def MetricsView(runs: BeforeAfter, frame: int) -> None:
    """Before and after trajectories so far (``frame`` changes when the runs advance)."""
    with matplotlib.rc_context(PAGE_STYLE):
        figure = Figure(figsize=(CHART_WIDTH, 8.4))
        axes = figure.subplots(2, 3, sharex=True, gridspec_kw={
            "left": 0.06, "right": 0.99, "top": 0.9, "bottom": 0.08, "wspace": 0.42,
            "hspace": 0.3})
        draw_metrics(axes.flat, {"before": history_frame(runs.before),
                                 "after": history_frame(runs.after)},
                     {"before": short_label(runs.preset.before_label),
                      "after": short_label(runs.preset.after_label)},
                     years=runs.horizon / STEPS_PER_YEAR)
        figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="upper center", ncols=2,
                      frameon=False)
        for axis in axes[1]:
            axis.set_xlabel("Year")
    solara.FigureMatplotlib(figure, format="png", dpi=100)


@solara.component
def StatusView(runs: BeforeAfter, frame: int) -> None:
    """Month and the latest values, in words, for the room."""
    month = runs.month
    parts = []
    for name, label in (("before", runs.preset.before_label), ("after", runs.preset.after_label)):
        metrics = getattr(runs, name).metrics
        colour = RUN_STYLES[name]["color"]
        parts.append(f"<span style='color:{colour}'><b>{escape(short_label(label))}</b></span>: "
                     f"outcome {metrics['outcome']:.2f}, trust {metrics['mean_trust']:.2f}, "
                     f"gateway {GATEWAYS[int(metrics['gateway'])]}")
    solara.HTML("div", unsafe_innerHTML=f"<b class='ci-month'>Month {month} of {runs.horizon}"
                f"</b> (year {month / STEPS_PER_YEAR:.1f}, seed {runs.seed}) &nbsp; "
                + " &nbsp;|&nbsp; ".join(parts), style={"font-size": "1.4em"})


@solara.component
def PlayControls(runs: solara.Reactive[BeforeAfter], frame: solara.Reactive[int],
                 on_reset, on_jump) -> None:
    """Play/Pause, a month or a year forward, reset, the play speed and jump-to-year.

    Play advances the runs at a fixed number of months a second whatever the time a redraw
    takes: each tick runs the months due since the last one, then redraws once.
    """
    playing = solara.use_reactive(False)
    speed = solara.use_reactive(DEFAULT_SPEED)

    def play() -> None:
        due, last = 0.0, time.monotonic()
        while playing.value and runs.value.running:
            time.sleep(0.05)
            now = time.monotonic()
            due += speed.value * (now - last)
            last = now
            whole = int(due)
            if whole:
                due -= whole
                runs.value.advance(whole)
                frame.set(frame.value + 1)
        playing.set(False)

    solara.lab.use_task(play, dependencies=[playing.value], prefer_threaded=True)

    def forward(months: int) -> None:
        runs.value.advance(months)
        frame.set(frame.value + 1)

    horizon_years = int(runs.value.horizon // STEPS_PER_YEAR)
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}):
        solara.Button("Pause" if playing.value else "Play",
                      icon_name="mdi-pause" if playing.value else "mdi-play", color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=not runs.value.running)
        solara.Button("+1 month", color="primary", on_click=lambda: forward(1),
                      disabled=playing.value or not runs.value.running)
        solara.Button("+1 year", color="primary", on_click=lambda: forward(STEPS_PER_YEAR),
                      disabled=playing.value or not runs.value.running)
        solara.Button("Reset", color="primary", outlined=True,
                      on_click=lambda: (playing.set(False), on_reset()))
    seconds = runs.value.horizon / speed.value
    solara.Select(f"Play speed: {speed.value} months a second ({horizon_years} years in "
                  f"{seconds:.0f} s)", value=speed.value, values=list(PLAY_SPEEDS),
                  on_value=speed.set)
    solara.Text("Jump to year:")
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for year in range(horizon_years + 1):
            solara.Button(str(year), small=True, outlined=True, classes=["ci-jump"],
                          on_click=lambda year=year: (playing.set(False),
                                                      on_jump(year * STEPS_PER_YEAR)))


@solara.component
def Page() -> None:
    """The workshop page."""
    first = PRESETS[0]
    # Initial values are memoized: use_reactive resets a variable whenever the value passed
    # to it changes, and a freshly built dict would count as a change on every render.
    preset_name = solara.use_reactive(first.name)
    settings = solara.use_reactive(solara.use_memo(first.start_settings, []))
    seed = solara.use_reactive(0)
    runs = solara.use_reactive(solara.use_memo(lambda: BeforeAfter(first, seed=0), []))
    frame = solara.use_reactive(0)
    problem = solara.use_reactive("")
    # Bumped when a change is refused, so that the controls are put back to their values
    # (a switch the browser has already flipped would otherwise stay flipped).
    revision = solara.use_reactive(0)
    preset = PRESETS_BY_NAME[preset_name.value]

    def rebuild(new_preset: Preset, new_settings: dict[str, Any], new_seed: int, month: int,
                control: Control | None = None) -> None:
        """Replay both runs with the new choices up to ``month``; on a refused combination
        keep the current runs, put the controls back and say why."""
        try:
            replacement = BeforeAfter(new_preset, new_settings, seed=new_seed, month=month)
        except InputError as error:
            problem.set(refusal_message(new_preset, control, error))
            revision.set(revision.value + 1)
            return
        problem.set("")
        preset_name.set(new_preset.name)
        settings.set(new_settings)
        seed.set(new_seed)
        runs.set(replacement)
        frame.set(frame.value + 1)

    def choose_preset(name: str) -> None:
        chosen = PRESETS_BY_NAME[name]
        rebuild(chosen, chosen.start_settings(), seed.value, 0)

    def change(control_name: str, value: Any) -> None:
        if value == settings.value[control_name]:
            return  # a control put back after a refusal, not a change
        rebuild(preset, {**settings.value, control_name: value}, seed.value, runs.value.month,
                CONTROLS_BY_NAME[control_name])

    def jump(month: int) -> None:
        if month >= runs.value.month:
            runs.value.advance(month - runs.value.month)
            frame.set(frame.value + 1)
        else:
            rebuild(preset, settings.value, seed.value, month)

    with solara.AppBar():
        solara.AppBarTitle("Collective Impact workshop")

    with solara.Sidebar():
        with solara.Card("Story"):
            solara.Select("Preset", value=preset.name, values=[p.name for p in PRESETS],
                          on_value=choose_preset)
            PlayControls(runs, frame, on_reset=lambda: rebuild(preset, settings.value,
                                                               seed.value, 0),
                         on_jump=jump)
            solara.InputInt("Seed", value=seed.value, continuous_update=False,
                            on_value=lambda value: rebuild(preset, settings.value, int(value),
                                                           runs.value.month))
        groups: dict[str, list[Control]] = {}
        for control in CONTROLS:
            groups.setdefault(control.group, []).append(control)
        for group, controls in groups.items():
            with solara.Card(group, margin=0, style={"padding": "4px 12px"}):
                for control in controls:
                    ControlInput(control, settings.value[control.name],
                                 lambda value, name=control.name: change(name, value),
                                 revision.value)
        solara.Text(f"ci-sim {__version__}", style={"font-size": "0.8em", "color": "#666"})

    with solara.Column(style={"padding": "8px 16px"}):
        with solara.Card(preset.title):
            solara.HTML("p", unsafe_innerHTML=escape(preset.read_aloud),
                        style={"font-size": "1.4em", "line-height": "1.45"})
            with solara.Details("What differs between the two runs"):
                solara.HTML("ul", unsafe_innerHTML="".join(
                    f"<li>{escape(line)}</li>" for line in contrast_lines(preset, settings.value)))
        if problem.value:
            solara.Error(problem.value, classes=["ci-refusal"],
                         style={"font-size": "1.3em"})
        StatusView(runs.value, frame.value)
        NetworksView(runs.value, frame.value)
        MetricsView(runs.value, frame.value)


page = Page


def quiet_server_log() -> None:
    """Silence the warnings that are not about this page.

    Solara warns, on the first connection over plain http to an address other than
    ``localhost``, that it falls back from ``samesite=none`` cookies to ``samesite=lax``:
    ``none`` only matters when the page is embedded in another site's iframe, which a
    workshop page never is, and ``lax`` is the safer setting.
    """
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")


def serve(*, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Serve the page with solara's server until interrupted.

    Nothing is fetched from the internet: the front end comes from ``solara-assets``, the
    version check and usage statistics are switched off.

    Raises:
        InputError: if the address cannot be served (port taken, unknown host).
    """
    check_address(host, port)
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    import solara.server.settings
    from solara.__main__ import cli

    quiet_server_log()
    solara.server.settings.telemetry.mixpanel_enable = False
    arguments = ["run", "ci_sim.app:page", "--host", host, "--port", str(port), "--production",
                 "--no-check-version", "--open" if open_browser else "--no-open"]
    cli(arguments, standalone_mode=False)
