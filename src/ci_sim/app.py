"""The workshop page: two runs of the Collective Impact model side by side, for a room.

Run it with ``ci-sim workshop`` (or ``solara run ci_sim.app:page``). A trainer picks a story
(:data:`ci_sim.presets.PRESETS`), reads its text aloud, presses play, and flips the controls:
each change replays both runs on the same seed up to the month the room is looking at, so the
charts move at once. The page works offline: matplotlib images only, and the front end served
from the locally installed ``solara-assets``.

Built from Mesa's visualization pieces (its :func:`ModelController` for play, step and reset,
its ``update_counter`` to redraw) around a :class:`ci_sim.presets.BeforeAfter` pair of
:class:`ci_sim.model.CollectiveImpactModel` runs. The page does not use ``SolaraViz`` itself:
its parameter controls only take effect on reset, cannot be moved by a preset, and drive
one model, while a workshop needs a preset to set every control and a flipped toggle to
change the picture straight away.
"""

from __future__ import annotations

import os
import socket
from html import escape
from typing import Any

import matplotlib
import solara
from matplotlib.figure import Figure
from mesa.visualization.solara_viz import ModelController
from mesa.visualization.utils import update_counter

from ci_sim import __version__
from ci_sim.figures import (
    RUN_STYLES, NetworkPicture, draw_metrics, history_frame, network_layout, sector_legend,
    short_label,
)
from ci_sim.model import GATEWAYS, STEPS_PER_YEAR
from ci_sim.model.params import describe
from ci_sim.presets import (
    CONTROLS, PRESETS, PRESETS_BY_NAME, BeforeAfter, Control, Preset, settings_overrides,
)
from ci_sim.errors import InputError

#: Style of the page's charts: large enough to read on a projector.
PAGE_STYLE = {"font.size": 12, "axes.titlesize": 13, "legend.fontsize": 11,
              "axes.spines.top": False, "axes.spines.right": False}
#: Milliseconds between updates while playing.
PLAY_INTERVAL_MS = 60


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


@solara.component
def ControlInput(control: Control, value: Any, on_value) -> None:
    """One control, as the widget its kind calls for."""
    if control.kind == "choice":
        solara.ToggleButtonsSingle(value=value, values=list(control.choices), on_value=on_value)
    elif control.kind == "toggle":
        solara.Switch(label=f"{control.label}: {'on' if value else 'off'}", value=value,
                      on_value=on_value)
    elif control.kind == "mindset":
        solara.Switch(label=f"{control.label}: {control.on_label if value else control.off_label}",
                      value=value, on_value=on_value)
    elif control.parameter == "organizations.count":
        solara.SliderInt(control.label, value=int(value), min=int(control.low),
                         max=int(control.high), step=int(control.step), on_value=on_value)
    else:
        solara.SliderFloat(control.label, value=float(value), min=control.low, max=control.high,
                           step=control.step, on_value=on_value)


@solara.component
def NetworksView(runs: BeforeAfter) -> None:
    """Both trust networks at the current month."""
    update_counter.get()
    positions = solara.use_memo(lambda: network_layout(runs.after.network, runs.seed),
                                dependencies=[runs.seed, runs.after.network.number_of_nodes(),
                                              tuple(runs.after.network.edges())])
    with matplotlib.rc_context(PAGE_STYLE):
        # Fixed layouts: a constrained layout would more than double the time per update.
        figure = Figure(figsize=(7.5, 4.4))
        figure.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.1, wspace=0.05)
        for axis, name, label in zip(figure.subplots(1, 2), ("before", "after"),
                                     (runs.preset.before_label, runs.preset.after_label)):
            model = getattr(runs, name)
            NetworkPicture(axis, model, positions).update(
                model, f"{short_label(label)}\ngateway: "
                       f"{GATEWAYS[int(model.metrics['gateway'])]}")
        sector_legend(figure, loc="lower center", ncols=5, fontsize=9, handletextpad=0.1,
                      columnspacing=0.8)
    solara.FigureMatplotlib(figure, format="png", dpi=100)


@solara.component
def MetricsView(runs: BeforeAfter) -> None:
    """Before and after trajectories so far."""
    update_counter.get()
    with matplotlib.rc_context(PAGE_STYLE):
        figure = Figure(figsize=(8.5, 5.2))
        axes = figure.subplots(2, 3, sharex=True, gridspec_kw={
            "left": 0.05, "right": 0.99, "top": 0.94, "bottom": 0.09, "wspace": 0.5,
            "hspace": 0.3})
        draw_metrics(axes.flat, {"before": history_frame(runs.before),
                                 "after": history_frame(runs.after)},
                     {"before": short_label(runs.preset.before_label),
                      "after": short_label(runs.preset.after_label)},
                     years=runs.horizon / STEPS_PER_YEAR)
        axes.flat[0].legend(loc="upper left", frameon=True)
        for axis in axes[1]:
            axis.set_xlabel("Year")
    solara.FigureMatplotlib(figure, format="png", dpi=100)


@solara.component
def StatusView(runs: BeforeAfter) -> None:
    """Month and the latest values, in words, for the room."""
    update_counter.get()
    month = runs.month
    parts = []
    for name, label in (("before", runs.preset.before_label), ("after", runs.preset.after_label)):
        metrics = getattr(runs, name).metrics
        colour = RUN_STYLES[name]["color"]
        parts.append(f"<span style='color:{colour}'><b>{escape(short_label(label))}</b></span>: "
                     f"outcome "
                     f"{metrics['outcome']:.2f}, trust {metrics['mean_trust']:.2f}, "
                     f"gateway {GATEWAYS[int(metrics['gateway'])]}")
    solara.HTML("div", unsafe_innerHTML=f"<b class='ci-month'>Month {month} of {runs.horizon}</b> "
                f"(year {month / STEPS_PER_YEAR:.1f}, seed {runs.seed}) &nbsp; "
                + " &nbsp;|&nbsp; ".join(parts), style={"font-size": "1.1em"})


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
    reset_parameters = solara.use_reactive(solara.use_memo(
        lambda: {"preset": first, "settings": first.start_settings(), "seed": 0}, []))
    problem = solara.use_reactive("")
    months_per_update = solara.use_reactive(1)
    play_interval = solara.use_reactive(PLAY_INTERVAL_MS)
    use_threads = solara.use_reactive(False)
    preset = PRESETS_BY_NAME[preset_name.value]

    def rebuild(new_preset: Preset, new_settings: dict[str, Any], new_seed: int,
                month: int) -> None:
        """Replay both runs with the new choices up to ``month``; on a bad combination keep
        the current runs and say what is wrong."""
        try:
            replacement = BeforeAfter(new_preset, new_settings, seed=new_seed, month=month)
        except InputError as error:
            problem.set(str(error))
            return
        problem.set("")
        preset_name.set(new_preset.name)
        settings.set(new_settings)
        seed.set(new_seed)
        reset_parameters.set({"preset": new_preset, "settings": new_settings, "seed": new_seed})
        runs.set(replacement)

    def choose_preset(name: str) -> None:
        chosen = PRESETS_BY_NAME[name]
        rebuild(chosen, chosen.start_settings(), seed.value, 0)

    def change(control_name: str, value: Any) -> None:
        rebuild(preset, {**settings.value, control_name: value}, seed.value, runs.value.month)

    with solara.AppBar():
        solara.AppBarTitle("Collective Impact workshop")

    with solara.Sidebar():
        with solara.Card("Story"):
            solara.Select("Preset", value=preset.name, values=[p.name for p in PRESETS],
                          on_value=choose_preset)
            ModelController(runs, model_parameters=reset_parameters,
                            play_interval=play_interval, render_interval=months_per_update,
                            use_threads=use_threads)
            solara.SliderInt("Speed: months per update", value=months_per_update, min=1, max=12)
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
                                 lambda value, name=control.name: change(name, value))
        solara.Text(f"ci-sim {__version__}", style={"font-size": "0.8em", "color": "#666"})

    with solara.Column(style={"padding": "8px 16px"}):
        with solara.Card(preset.title):
            solara.HTML("p", unsafe_innerHTML=escape(preset.read_aloud),
                        style={"font-size": "1.25em", "line-height": "1.45"})
            with solara.Details("What differs between the two runs"):
                solara.HTML("ul", unsafe_innerHTML="".join(
                    f"<li>{escape(line)}</li>" for line in contrast_lines(preset, settings.value)))
        if problem.value:
            solara.Error(problem.value)
        StatusView(runs.value)
        with solara.Columns([1, 1]):
            NetworksView(runs.value)
            MetricsView(runs.value)


page = Page


def serve(*, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> None:
    """Serve the page with solara's server until interrupted.

    Nothing is fetched from the internet: the front end comes from ``solara-assets``, the
    version check and usage statistics are switched off.

    Raises:
        InputError: if the address cannot be served (port taken, unknown host).
    """
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host, port))
    except OSError as error:
        raise InputError(f"--host/--port: cannot serve on {host}:{port} ({error.strerror or error})"
                         ) from None
    os.environ["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    import solara.server.settings
    from solara.__main__ import cli

    solara.server.settings.telemetry.mixpanel_enable = False
    arguments = ["run", "ci_sim.app:page", "--host", host, "--port", str(port), "--production",
                 "--no-check-version", "--open" if open_browser else "--no-open"]
    cli(arguments, standalone_mode=False)

