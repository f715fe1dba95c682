"""The ``ci-sim`` command line: each command parses, calls one library function, prints.

Bad input, typer's own refusals included, prints one line to stderr naming the option or
file and exits with code 2, without a traceback (:class:`OneLineErrors`). Names from
files are printed as plain text, never as markup. Every command that writes goes through
:class:`ci_sim.folders.OutputFolder`.
"""

from __future__ import annotations

import ipaddress
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
import typer.core
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeRemainingColumn)
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from ci_sim import __version__
from ci_sim.folders import OutputFolder, default_folder
from ci_sim.errors import InputError
from ci_sim.model.scenarios import load_scenario, parse_assignment

#: Click as typer uses it (recent typer versions carry their own copy).
click = getattr(typer.core, "_click", None) or typer.core.click

EXIT_BAD_INPUT = 2

#: Everything printed is plain text: a name like '[link=file:///etc/passwd]x' stays as it is.
console = Console(markup=False, highlight=False)


def report_error(message: str) -> None:
    """Print one line to stderr."""
    Console(stderr=True, markup=False, highlight=False).print(
        Text.assemble(("error: ", "bold red"), " ".join(str(message).split())), soft_wrap=True)


class OneLineErrors(TyperGroup):
    """Runs a command and turns every refusal into one line on stderr and exit code 2:
    click's usage errors (``--replicates 0``, unknown options) and :class:`InputError`."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False,
                                  **extra)
            code = result if isinstance(result, int) else 0
        except click.exceptions.NoArgsIsHelpError as error:
            click.echo(error.ctx.get_help())
            code = 0
        except click.exceptions.ClickException as error:
            context = getattr(error, "ctx", None)
            where = f"{context.info_name}: " if context is not None and context.parent else ""
            report_error(where + usage_message(error.format_message()))
            code = EXIT_BAD_INPUT
        except InputError as error:
            report_error(str(error))
            code = EXIT_BAD_INPUT
        except typer.Abort:
            report_error("interrupted")
            code = 130
        if standalone_mode:
            sys.exit(code)
        return code


def usage_message(message: str) -> str:
    """Click's wording made short: "--replicates: must be greater than or equal to 1"."""
    message = re.sub(r"^Invalid value for '([^']+)': ", r"\1: ", message)
    return message.replace("Input should be ", "must be ").replace("Value error, ", "")


app = typer.Typer(cls=OneLineErrors, add_completion=False, no_args_is_help=True,
                  rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
                  help="Simulate Collective Impact: isolated impact, coalitions and backbones.")


def show_version(value: bool) -> None:
    if value:
        console.print(f"ci-sim {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(version: Annotated[bool, typer.Option(
        "--version", callback=show_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Simulate Collective Impact: isolated impact, coalitions and backbones."""


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                    transient=True, disable=not sys.stderr.isatty() and not console.is_terminal)


def set_overrides(assignments: list[str], problem: Optional[str], years: Optional[float]
                  ) -> dict[str, Any]:
    """The ``--set`` assignments as ``{key: value}``; InputError for a ``--problem`` or
    ``--years`` that sets a key ``--set`` sets too, or a ``--years`` out of range."""
    from ci_sim.model.params import describe

    overrides = dict(parse_assignment(text) for text in assignments)
    for option, key, value in (("--problem", "problem.type", problem),
                               ("--years", "years", years)):
        if value is not None and key in overrides:
            raise InputError(f"{option} and --set {key}: both set {key}; give one of them")
    if years is not None:
        low, high = describe("years")["low"], describe("years")["high"]
        if not low <= years <= high:
            raise InputError(f"--years: must be from {low:.4g} (one month) to {high:g} years, "
                             f"got {years:g}")
    return overrides


def all_overrides(assignments: list[str], problem: Optional[str], years: Optional[float]
                  ) -> dict[str, Any]:
    """``--set``, ``--problem`` and ``--years`` as one ``{dotted name: value}``."""
    overrides = set_overrides(assignments, problem, years)
    given = {"problem.type": problem, "years": years}
    overrides.update({key: value for key, value in given.items() if value is not None})
    return overrides


def posterior_draws(path: Optional[Path], seed: int, replicates: int,
                    scenarios: list[tuple[Optional[str], Any]], overrides: dict[str, Any]):
    """The draws of ``--posterior FILE`` for each scenario (source, resolved scenario), or
    None without it: the file checked, every particle the replicates draw set on each
    scenario once, before anything runs. Explicit values (the scenario file, --set,
    --problem, --years) win over the draws."""
    if path is None:
        return None
    from ci_sim.studies.posterior import ensure_used, load_posterior, scenario_names

    posterior = load_posterior(path)
    draws = [posterior.bind(seed, scenario_names(source, overrides))
             for source, _ in scenarios]
    ensure_used(draws, "the scenario file" + ("s" if len(scenarios) > 1 else "") +
                " and --set, --problem or --years")
    for drawn, (_, scenario) in zip(draws, scenarios):
        drawn.check(scenario, replicates)
    return draws


class ProblemChoice(StrEnum):
    simple = "simple"
    complicated = "complicated"
    complex = "complex"


class EngineChoice(StrEnum):
    numba = "numba"
    python = "python"


def plain(choice: Optional[StrEnum]) -> Optional[str]:
    """The string of a choice (None stays None)."""
    return None if choice is None else choice.value


ProblemOption = Annotated[Optional[ProblemChoice], typer.Option(
    help="Problem type (default: the scenario's).")]
ReplicatesOption = Annotated[int, typer.Option(min=1, max=100_000, metavar="N",
                                               help="Replicates (different seeds).")]
EngineOption = Annotated[EngineChoice, typer.Option(help="numba (fast) or python "
                                                           "(reference).")]
SeedOption = Annotated[int, typer.Option(min=0, max=2**63 - 1, metavar="SEED",
                                         help="Base seed; replicate seeds derive from it.")]
YearsOption = Annotated[Optional[float], typer.Option(metavar="YEARS", help="Simulated years.")]
SetOption = Annotated[list[str], typer.Option(
    "--set", metavar="KEY=VALUE", help="Override a parameter, e.g. "
    "conditions.common_agenda=0.5 (repeat for several).")]
OverwriteOption = Annotated[bool, typer.Option(
    "--overwrite", help="Replace the results already in the output folder.")]
PosteriorOption = Annotated[Optional[Path], typer.Option(
    metavar="FILE",
    help="Posterior of a calibration (posterior.parquet: one column per fitted parameter and "
         "a weight column). Each replicate runs on its seed and on a parameter set drawn "
         "from it by weight, the same draw for the same replicate in every scenario and "
         "command, so intervals include parametric uncertainty. Parameters set explicitly "
         "keep their values and are not drawn.")]


ResumeOption = Annotated[bool, typer.Option(
    "--resume", help="Finish an interrupted run into --out, running only what is missing.")]


def resume_or_overwrite(resume: bool, overwrite: bool) -> None:
    if resume and overwrite:
        raise InputError("--resume and --overwrite: give one of them (--resume finishes the "
                         "interrupted run into --out, --overwrite starts it again)")


def workers_option(default: str) -> Any:
    return Annotated[Optional[int], typer.Option(
        min=1, max=4096, metavar="N",
        help=f"Processes on this machine (1 runs in this process; default: {default}).")]


def out_option(default: str) -> Any:
    return Annotated[Optional[Path], typer.Option(metavar="FOLDER",
                                                  help=f"Output folder (default: {default}).")]


@app.command()
def run(scenario: Annotated[Optional[str], typer.Argument(
            metavar="SCENARIO",
            help="Built-in scenario name, TOML file, or a workshop room's session file "
                 "(default: collective_impact).")] = None,
        problem: ProblemOption = None,
        seed: Annotated[Optional[int], typer.Option(
            min=0, max=2**63 - 1, metavar="SEED",
            help="Base seed; replicate seeds derive from it (default 0, or a session's "
                 "seed).")] = None,
        years: YearsOption = None,
        replicates: ReplicatesOption = 20,
        engine: EngineOption = EngineChoice.numba,
        set_: SetOption = [],
        workers: workers_option("1") = 1,
        out: out_option("results/SCENARIO") = None,
        overwrite: OverwriteOption = False,
        posterior: PosteriorOption = None,
        ) -> None:
    """Run a scenario; write timeseries.parquet, summary.json and outcome.png; print a summary.

    A session file of ``ci-sim workshop --room`` replays the room's choices: replicate 0 of
    its seed is the room's run. With --posterior, each replicate also draws the parameters
    the scenario and the options leave unset from a calibration's posterior.
    """
    from ci_sim.model import GATEWAYS
    from ci_sim.outputs import SUMMARY_METRICS, metric_label, run_scenario
    from ci_sim.session import is_session_file, read_session

    plays = ()
    overrides = all_overrides(set_, plain(problem), years)
    if is_session_file(scenario):
        session, digest = read_session(Path(scenario), overrides)
        resolved, plays = session.scenario, session.plays
        seed = session.seed if seed is None else seed
    else:
        resolved, digest = load_scenario(scenario, overrides)
    seed = 0 if seed is None else seed
    draws = posterior_draws(posterior, seed, replicates, [(scenario, resolved)], overrides)
    drawn = None if draws is None else draws[0]
    out = out or default_folder(resolved.name)
    with OutputFolder(out, overwrite=overwrite) as staging, progress_bar() as bar:
        task = bar.add_task(resolved.name, total=replicates)
        summary = run_scenario(resolved, digest, seed=seed, replicates=replicates,
                               engine=plain(engine), out=staging, workers=workers,
                               progress=lambda: bar.advance(task), plays=plays, draws=drawn)
    table = Table(title=f"{resolved.name}: {resolved.problem.type} problem, year "
                        f"{resolved.years:g}, {replicates} replicate"
                        f"{'s' if replicates > 1 else ''} (seed {seed}"
                        f"{'' if drawn is None else ', parameters from ' + drawn.posterior.file})")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    if replicates >= 2:
        table.add_column("95% interval", justify="right")
    for metric in SUMMARY_METRICS:
        if metric == "gateway":
            shares = summary["gateway_final"]
            common = max(shares, key=shares.get)
            cells = [f"{common} ({shares[common]:.0%})", ""]
        else:
            value = summary["final"][metric]
            cells = [f"{value['mean']:.3f}", f"{value['low']:.3f} .. {value['high']:.3f}"]
        table.add_row(metric_label(metric) if metric != "gateway" else "gateway (most common)",
                      *cells[:2 if replicates >= 2 else 1])
    console.print(table)
    ended = ", ".join(f"{name} {share:.0%}" for name, share in summary["gateway_final"].items()
                      if share > 0)
    console.print(f"Gateway at the end, by share of replicates: {ended} (gateways in order: "
                  f"{', '.join(GATEWAYS)})")
    if drawn is not None:
        console.print(drawn.describe(), soft_wrap=True)
    console.print(f"Wrote {out}/timeseries.parquet, summary.json, outcome.png")


@app.command()
def compare(scenarios: Annotated[list[str], typer.Argument(
                metavar="SCENARIO", help="Scenario names or files.")],
            problem: ProblemOption = None,
            seed: SeedOption = 0,
            years: YearsOption = None,
            replicates: ReplicatesOption = 20,
            engine: EngineOption = EngineChoice.numba,
            set_: SetOption = [],
            workers: workers_option("1") = 1,
            out: out_option("results/compare") = None,
            overwrite: OverwriteOption = False,
            posterior: PosteriorOption = None,
            ) -> None:
    """Run scenarios on the same seeds; write compare.csv and compare.png.

    With --posterior, replicate r of every scenario also runs on the same parameter set
    drawn from a calibration's posterior (what a scenario sets itself keeps its value).
    """
    from ci_sim.outputs import compare_scenarios, metric_label
    from ci_sim.studies.stats import span

    overrides = all_overrides(set_, plain(problem), years)
    loaded = [load_scenario(source, overrides) for source in scenarios]
    names = [scenario.name for scenario, _ in loaded]
    if len(set(names)) < len(names):
        raise InputError(f"scenarios: names must differ, got {', '.join(names)}")
    draws = posterior_draws(posterior, seed, replicates,
                            [(source, scenario) for source, (scenario, _) in
                             zip(scenarios, loaded)], overrides)
    out = out or Path("results/compare")
    with OutputFolder(out, overwrite=overwrite) as staging, progress_bar() as bar:
        task = bar.add_task("compare", total=replicates * len(loaded))
        table = compare_scenarios(loaded, seed=seed, replicates=replicates, engine=plain(engine),
                                  out=staging, workers=workers,
                                  progress=lambda: bar.advance(task), draws=draws)
    horizons = {scenario.name: scenario.years for scenario, _ in loaded}
    same = len(set(horizons.values())) == 1
    spread = " ± 95% half-interval" if replicates >= 2 else " (1 replicate, no interval)"
    view = Table(title=(f"Final values after {years_text(loaded[0][0].years)}" if same else
                        "Final values at each scenario's horizon") + f", mean{spread}")
    view.add_column("metric", no_wrap=True)
    for name in names:
        view.add_column(name if same else f"{name} ({years_text(horizons[name])})",
                        justify="right", overflow="fold", min_width=13)
    for metric in ("outcome", "agenda_alignment", "mean_trust", "funding_gini", "gateway"):
        rows = table[table["metric"] == metric].set_index("scenario")
        if metric == "gateway":
            view.add_row("gateway (most common)",
                         *(rows.loc[name, "most_common"] for name in names))
            continue
        view.add_row(metric_label(metric), *(
            f"{rows.loc[name, 'mean']:.3f}" + (
                f" ± {span(rows.loc[name]):.3f}"
                if replicates >= 2 else "") for name in names))
    console.print(view)
    for name, drawn in zip(names, draws or []):
        console.print(f"{name}: {drawn.describe()}", soft_wrap=True)
    console.print(f"Wrote {out}/compare.csv, compare.png")


def years_text(years: float) -> str:
    """``1 year``, ``2.5 years``."""
    return f"{years:g} year{'' if years == 1 else 's'}"


@app.command("scenarios")
def list_scenarios() -> None:
    """List the built-in scenarios."""
    from ci_sim.model.scenarios import builtin_names

    for name in builtin_names():
        scenario, _ = load_scenario(name)
        console.print(Text.assemble((f"{name:24}", "bold"), " ", scenario.description),
                      soft_wrap=True)


@app.command()
def check(files: Annotated[list[Path], typer.Argument(metavar="FILE",
                                                      help="Scenario TOML files.")]) -> None:
    """Validate scenario files without running them."""
    failed = False
    for path in files:
        try:
            load_scenario(path)
        except InputError as error:
            report_error(str(error))
            failed = True
        else:
            console.print(f"{path}: ok", soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


SHOCK_HELP = ("Shock to run at every share (repeat for several): none; backbone_cut:YEAR; "
              "pool_cut:YEAR:FRACTION; champion_leaves:YEAR; funder_withdraws:YEAR; "
              "short_funding:YEARS. Join with '+' to combine, e.g. "
              "backbone_cut:3+champion_leaves:3. Default: the experiment's list.")


@app.command("stress-test")
def stress_test(
        scenario: Annotated[Optional[str], typer.Argument(
            metavar="SCENARIO",
            help="Built-in scenario name or TOML file (default: the experiment's).")] = None,
        config: Annotated[Optional[Path], typer.Option(
            metavar="FILE", help="Experiment file (default: the built-in defaults, the same "
            "as experiments/backbone_stress.toml).")] = None,
        shares: Annotated[Optional[str], typer.Option(
            metavar="SHARES",
            help="Backbone shares of the pool: START:STOP:STEP (STOP included) or a comma "
                 "list, each 0..1. Default 0:0.30:0.03.")] = None,
        problem: ProblemOption = None,
        budget: Annotated[Optional[float], typer.Option(
            metavar="MONEY", help="Funding pool, money units per month (default: the "
            "scenario's).")] = None,
        years: YearsOption = None,
        replicates: Annotated[Optional[int], typer.Option(
            min=2, max=100_000, metavar="N",
            help="Replicates per share and shock, on the same seeds.")] = None,
        shock: Annotated[list[str], typer.Option("--shock", metavar="SHOCK",
                                                 help=SHOCK_HELP)] = [],
        seed: Annotated[Optional[int], typer.Option(min=0, max=2**63 - 1, metavar="SEED",
                                                    help="Base seed.")] = None,
        target: Annotated[Optional[float], typer.Option(
            min=0, max=1, metavar="OUTCOME",
            help="Final outcome (0-1) the funder wants to reach, for the chance of reaching "
                 "it (default: the experiment's, 0.7).")] = None,
        precision: Annotated[Optional[float], typer.Option(
            min=0.0001, max=1, metavar="HALF_WIDTH",
            help="Add replicates until every mean final outcome is known to +- this (95% "
                 "interval), up to the experiment's max_replicates.")] = None,
        samples: Annotated[Optional[int], typer.Option(
            min=0, max=10_000, metavar="N",
            help="Worlds sampled from the experiment's uncertainties (0: none).")] = None,
        engine: Annotated[Optional[EngineChoice], typer.Option(
            help="numba or python (default: the experiment's).")] = None,
        set_: SetOption = [],
        workers: workers_option("every core") = None,
        scheduler: Annotated[Optional[str], typer.Option(
            metavar="ADDRESS",
            help="'local' (a Dask cluster on this machine) or a Dask scheduler address such "
                 "as tcp://host:8786.")] = None,
        out: out_option("results/stress") = None,
        resume: ResumeOption = False,
        overwrite: OverwriteOption = False,
        posterior: PosteriorOption = None,
        ) -> None:
    """Funder stress test: sweep the backbone's share of the pool under shocks.

    Writes report.html (one self-contained file), stress.csv, stress.json and the figures.
    With --posterior, replicate r of every share and situation also runs on the same
    parameter set drawn from a calibration's posterior (what the stress test sets keeps its
    value), and the report's intervals include that parametric uncertainty.
    """
    import time

    from ci_sim.studies.stress import load_experiment, run_stress_test

    resume_or_overwrite(resume, overwrite)
    started = time.perf_counter()
    overrides = set_overrides(set_, plain(problem), years)
    experiment = load_experiment(config, scenario=scenario, problem=plain(problem),
                                 shares=shares, budget=budget, years=years,
                                 replicates=replicates, shocks=shock or None, seed=seed,
                                 engine=plain(engine), target=target, samples=samples,
                                 precision=precision,
                                 set=overrides or None)
    out = out or Path("results/stress")
    with progress_bar() as bar:
        task = bar.add_task("stress test", total=None)
        result, written = run_stress_test(
            experiment, out, workers=workers, scheduler=scheduler, resume=resume,
            overwrite=overwrite, posterior=posterior,
            progress=lambda done, total: bar.update(task, completed=done, total=total))
    from ci_sim.studies.stress.study import (ALL_SHOCKS, LEVEL, best_by_criterion,
                                             good_range)

    low, high = good_range(result)
    console.print(f"Good backbone shares: {low:.0%} to {high:.0%} of the pool (expected "
                  f"outcome within 1 point of the best over {len(result.plan.worlds)} "
                  f"situations, {result.replicates} replicates each)")
    optimum = result.optima.get(ALL_SHOCKS) or next(iter(result.optima.values()))
    console.print(f"Best share about {optimum.share:.1%}; it may be anywhere from "
                  f"{optimum.low:.0%} to {optimum.high:.0%} ({LEVEL:.0%} confidence)")
    view = Table(title="The share each robustness criterion picks")
    for column in ("if the funder wants the best", "share", "expected", "worst 5%",
                   "largest regret", "reaches target"):
        view.add_column(column, justify="left" if column.startswith("if") else "right")
    for criterion, index in best_by_criterion(result.robust).items():
        row = result.robust.loc[index]
        view.add_row(criterion, f"{row['backbone_share']:.0%}", f"{row['expected_outcome']:.3f}",
                     f"{row['outcome_p05']:.3f}", f"{100 * row['max_regret']:.1f} points",
                     f"{row['target_probability']:.0%}")
    console.print(view)
    if not result.sensitivity.empty:
        top = result.sensitivity.iloc[0]
        console.print(f"Most changes the best share: {top['uncertainty']} ({top['best_shares']})"
                      if top["beyond_chance"] else "No uncertainty tested moves the best share "
                      f"beyond chance; the largest shift: {top['uncertainty']} "
                      f"({top['best_shares']})")
    if result.plan.draws is not None:
        console.print(result.plan.draws.describe() + "; every interval includes this "
                      "parametric uncertainty", soft_wrap=True)
    console.print(f"Wrote {', '.join(str(path) for path in written)} "
                  f"in {time.perf_counter() - started:.0f} s")


def server_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@app.command()
def workshop(host: Annotated[str, typer.Option(
                 metavar="ADDRESS", help="Address to serve on (this machine only by default; "
                 "0.0.0.0 serves every network the machine is on).")] = "127.0.0.1",
             port: Annotated[int, typer.Option(min=1, max=65535, metavar="PORT",
                                               help="Port.")] = 8765,
             open_browser: Annotated[bool, typer.Option("--open/--no-open",
                                                        help="Open a browser tab.")] = False,
             room: Annotated[bool, typer.Option(
                 "--room", help="A participatory session: participants join from their "
                 "phones with a room code and each plays an organization.")] = False,
             seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, metavar="SEED",
                                               help="Seed of the room's run (--room).")] = 0,
             max_participants: Annotated[int, typer.Option(
                 min=1, max=200, metavar="N",
                 help="Most participants admitted (--room; at most one per organization)."
                 )] = 30,
             out: out_option("results/room_CODE; --room") = None,
             overwrite: OverwriteOption = False,
             ) -> None:
    """Serve the workshop page: before and after runs side by side, presets, toggles; or,
    with --room, a session where participants play organizations from their phones.

    Works without internet. Stop it with Ctrl+C.
    """
    from ci_sim.serving import check_address

    if not room:
        for option, given in (("--seed", seed != 0), ("--max-participants",
                                                     max_participants != 30),
                              ("--out", out is not None), ("--overwrite", overwrite)):
            if given:
                raise InputError(f"{option}: only used with --room")
    check_address(host, port)
    if room:
        return serve_room_command(host, port, seed=seed, max_participants=max_participants,
                                  out=out, overwrite=overwrite, open_browser=open_browser)
    from ci_sim.app import serve

    if not is_loopback(host):
        Console(stderr=True, markup=False, highlight=False).print(
            Text.assemble(("warning: ", "yellow"), f"--host {host}: the page and its "
                          f"controls are open to anyone who can reach this machine on port "
                          f"{port}; use 127.0.0.1 to keep it to this machine"), soft_wrap=True)
    console.print(f"Workshop page at {server_url(host, port)} (Ctrl+C to stop)")
    serve(host=host, port=port, open_browser=open_browser)


def serve_room_command(host: str, port: int, *, seed: int, max_participants: int,
                       out: Optional[Path], overwrite: bool, open_browser: bool) -> None:
    """Start a room, print how to join and how to steer, serve it until Ctrl+C; with
    ``open_browser``, open the facilitator's page on this machine."""
    from ci_sim.room import Room, make_code
    from ci_sim.room_web import serve_room

    code = make_code()
    folder = out or Path(f"results/room_{code}")
    if (folder / "session.toml").exists() and not overwrite:
        raise InputError(f"--out: {folder} already holds a session; give another folder or "
                         "--overwrite")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"--out: {folder} is a file, not a folder")
    the_room = Room(seed=seed, max_participants=max_participants, out=folder, code=code)
    shown = "THIS_MACHINE" if host in ("0.0.0.0", "::") else host
    address = server_url(shown, port)
    # soft_wrap: links stay on one line, whole, however narrow the terminal.
    console.print(f"Room {the_room.code}: participants open {address} and type the code "
                  f"(up to {the_room.max_participants}).", soft_wrap=True)
    console.print(f"Facilitator (keep this link to yourself): "
                  f"{address}/facilitator#token={the_room.token}", soft_wrap=True)
    if shown == "THIS_MACHINE":
        console.print("THIS_MACHINE: this computer's address on the room's network.")
    console.print(f"The session is saved to {folder}/session.toml after every quarter "
                  "(Ctrl+C to stop).")
    if not is_loopback(host):
        Console(stderr=True, markup=False, highlight=False).print(
            Text.assemble(("note: ", "yellow"), f"--host {host}: anyone who can reach this "
                          f"machine on port {port} and has the room code can join; only the "
                          "facilitator's link steers"), soft_wrap=True)
    console.file.flush()
    if open_browser:
        import threading
        import webbrowser

        local = server_url("127.0.0.1" if shown == "THIS_MACHINE" else host, port)
        threading.Timer(1.0, webbrowser.open,
                        [f"{local}/facilitator#token={the_room.token}"]).start()
    serve_room(the_room, host=host, port=port)


@app.command()
def figures(preset: Annotated[str, typer.Option(metavar="NAME",
                                                help="Preset name, or all.")] = "all",
            out: out_option("results/figures") = None,
            seed: SeedOption = 0,
            replicates: Annotated[int, typer.Option(min=2, max=10_000, metavar="N",
                                                    help="Paired runs behind each slide.")
                                  ] = 20,
            workers: workers_option("1") = 1,
            overwrite: OverwriteOption = False,
            ) -> None:
    """Write slide-ready figures for workshop presets: NAME.png, NAME_network.png, NAME.gif."""
    from ci_sim.figures import make_figures
    from ci_sim.presets import PRESETS, get_preset

    chosen = list(PRESETS) if preset == "all" else [get_preset(preset)]
    out = out or Path("results/figures")
    with OutputFolder(out, overwrite=overwrite) as staging, \
            console.status(f"Drawing {len(chosen)} preset(s)"):
        entries = make_figures(chosen, staging, seed=seed, replicates=replicates,
                               workers=workers)
    for entry in entries:
        console.print(Text.assemble((entry["preset"], "bold"), f": {entry['title']}"))
    console.print(f"Wrote {len(entries) * 3} figures and figures.json to {out}")


# ---------------------------------------------------------------------------- sweeps
def sweep_progress() -> Progress:
    """Runs done, runs per second and time left."""
    return Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                    MofNCompleteColumn(), TextColumn("{task.fields[rate]} runs/s"),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not sys.stderr.isatty() and not console.is_terminal)


def print_sweep(result, folder: Path) -> None:
    from ci_sim.studies.sweep.analysis import describe_box

    experiment = result.experiment
    for output, ranked in result.analysis.ranking.items():
        table = result.analysis.indices
        view = Table(title=f"{output}: parameters ranked ({experiment.method})")
        view.add_column("parameter")
        indices = [name for name in ("ST", "S1", "mu_star", "sigma")
                   if name in set(table["index"])]
        for name in indices:
            view.add_column(name, justify="right")
        rows = table[table["output"] == output]
        for parameter in ranked:
            cells = []
            for name in indices:
                row = rows[(rows["parameter"] == parameter) & (rows["index"] == name)].iloc[0]
                conf = "" if row["conf"] != row["conf"] else f" ± {row['conf']:.3f}"
                cells.append(f"{row['value']:.3f}{conf}")
            view.add_row(parameter, *cells)
        console.print(view)
    for number, box in enumerate(result.analysis.boxes, start=1):
        console.print(f"Box {number}: {describe_box(box, result.runs, experiment)} (coverage "
                      f"{box.coverage:.0%}, density {box.density:.0%})")
        significance = result.analysis.significance[number - 1]
        for name, (quasi, kept) in significance.items():
            console.print(f"  {name}: quasi-p {quasi:.3f}, kept in {kept:.0%} of resamples")
    for message in result.analysis.warnings:
        console.print(Text.assemble(("warning: ", "yellow"), message))
    console.print(f"Wrote {', '.join(path.name for path in result.written)} in {folder}")


@app.command()
def sweep(experiment: Annotated[Path, typer.Argument(metavar="EXPERIMENT",
                                                     help="Experiment file (TOML).")],
          out: out_option("results/NAME") = None,
          workers: workers_option("every core") = None,
          scheduler: Annotated[Optional[str], typer.Option(
              metavar="ADDRESS",
              help="Dask scheduler: tcp://host:port, or 'local' to start a LocalCluster.")
                    ] = None,
          resume: ResumeOption = False,
          overwrite: OverwriteOption = False,
          posterior: PosteriorOption = None,
          ) -> None:
    """Run a sensitivity-analysis sweep; write runs.parquet, indices.csv and the plots.

    With --posterior, replicate r of every sample point also runs on the same parameter set
    drawn from a calibration's posterior (what the experiment sets keeps its value).
    """
    import time

    from ci_sim.studies.sweep import run_sweep

    resume_or_overwrite(resume, overwrite)
    started = {}
    with sweep_progress() as bar:
        task = bar.add_task("sweep", total=None, rate="-")

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            first = started.setdefault("at", (now, done))
            rate = (done - first[1]) / (now - first[0]) if now > first[0] else 0.0
            bar.update(task, completed=done, total=total, rate=f"{rate:.1f}")

        result = run_sweep(experiment, out, workers=workers, scheduler=scheduler,
                           resume=resume, overwrite=overwrite, progress=progress,
                           posterior=posterior)
    folder = out or default_folder(result.experiment.name)
    console.print(f"{result.experiment.name}: {len(result.runs)} runs ({result.ran} run now) "
                  f"in {result.seconds:.0f} s")
    print_sweep(result, folder)


@app.command()
def analyze(folder: Annotated[Path, typer.Argument(metavar="FOLDER",
                                                   help="Folder of a finished sweep.")]
            ) -> None:
    """Recompute a sweep's indices, convergence check, discovery and plots from its runs."""
    from ci_sim.studies.sweep import analyze_sweep

    print_sweep(analyze_sweep(folder), folder)


@app.command()
def calibrate(targets: Annotated[Path, typer.Argument(
                  metavar="TARGETS",
                  help="Targets file (TOML), or the name of a shipped one: calibration.")],
              out: out_option("results/NAME") = None,
              particles: Annotated[Optional[int], typer.Option(
                  min=10, max=100_000, metavar="N",
                  help="Accepted particles per generation (default: the file's).")] = None,
              generations: Annotated[Optional[int], typer.Option(
                  min=1, max=1000, metavar="N",
                  help="Most generations (default: the file's).")] = None,
              evaluations: Annotated[Optional[int], typer.Option(
                  min=10, max=10**9, metavar="N",
                  help="Most particle evaluations (default: the file's).")] = None,
              checks: Annotated[Optional[int], typer.Option(
                  min=0, max=10_000, metavar="N",
                  help="Posterior draws run on held-out seeds (default: the file's).")] = None,
              workers: workers_option("every core") = None,
              scheduler: Annotated[Optional[str], typer.Option(
                  metavar="ADDRESS",
                  help="Dask scheduler: tcp://host:port, or 'local' to start a LocalCluster.")
                        ] = None,
              resume: ResumeOption = False,
              overwrite: OverwriteOption = False,
              ) -> None:
    """Fit parameters to the targets' patterns with ABC-SMC (pyabc); write posterior.parquet,
    summary.csv and report.html (posterior, identifiability, predictive checks on held-out
    seeds, acceptance history)."""
    import time

    from ci_sim.studies.calibration import run_calibration

    resume_or_overwrite(resume, overwrite)
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(), TextColumn("{task.fields[extra]}", markup=False),
                  console=console, transient=True,
                  disable=not sys.stderr.isatty() and not console.is_terminal) as bar:
        tasks: dict[Any, Any] = {}

        def progress(generation: int, accepted: int, wanted: int, evaluated: int,
                     threshold: float) -> None:
            if generation not in tasks:
                for done in tasks.values():
                    bar.update(done, visible=False)
                tasks[generation] = bar.add_task(
                    f"generation {generation} (threshold {threshold:.3g})", total=wanted,
                    extra="")
            bar.update(tasks[generation], completed=accepted,
                       extra=f"accepted, {evaluated} evaluations")

        def check_progress(done: int, total: int) -> None:
            if "check" not in tasks:
                for task in tasks.values():
                    bar.update(task, visible=False)
                tasks["check"] = bar.add_task("predictive check", total=total, extra="runs")
            bar.update(tasks["check"], completed=done, total=total)

        result, written = run_calibration(
            targets, out, workers=workers, scheduler=scheduler, resume=resume,
            overwrite=overwrite, progress=progress, check_progress=check_progress,
            particles=particles, generations=generations, evaluations=evaluations,
            checks=checks)
    plan = result.plan
    console.print(f"{plan.targets.name}: {len(result.generations)} generations, "
                  f"{result.evaluations:,} evaluations ({result.model_runs:,} model runs) and "
                  f"{result.check_runs:,} check runs; stopped: {result.stop}", soft_wrap=True)
    view = Table(title="Posterior (final generation)")
    for column in ("parameter", "median", "90% interval", "width / prior", "default"):
        view.add_column(column, justify="left" if column == "parameter" else "right")
    for _, row in result.summary.iterrows():
        view.add_row(row["parameter"], f"{row['median']:.4g}",
                     f"{row['p05']:.4g} .. {row['p95']:.4g}", f"{row['width_ratio']:.2f}",
                     f"{row['default']:.4g}" + ("" if row["default_in_central_50"]
                                                else " (outside 50%)"))
    console.print(view)
    if "held_out_met_share" in result.patterns:
        checks_view = Table(title="Patterns on held-out seeds (share of posterior draws "
                                  "meeting each)")
        for column in ("pattern", "band", "met", "median"):
            checks_view.add_column(column, justify="left" if column in ("pattern", "band")
                                   else "right")
        for _, row in result.patterns.iterrows():
            checks_view.add_row(row["pattern"], row["band"],
                                f"{row['held_out_met_share']:.0%}",
                                f"{row['held_out_median']:.4g}")
        console.print(checks_view)
    folder = written[0].parent
    console.print(f"Wrote {', '.join(path.name for path in written)} in {folder} "
                  f"({time.perf_counter() - started:.0f} s)", soft_wrap=True)


@app.command()
def validate(names: Annotated[Optional[list[str]], typer.Argument(
                 metavar="NAME",
                 help="Experiments to run (default: all): march1991_learning_rates, "
                      "march1991_turnover, lazer_friedman2007, trust_asymmetry.")] = None,
             replicates: Annotated[Optional[int], typer.Option(
                 min=2, max=100_000, metavar="N",
                 help="Replicates per grid point (default: each experiment's own; March "
                      "adds replicates until each point's 95% interval is as narrow as its "
                      "docking margin needs).")] = None,
             runs: Annotated[Optional[int], typer.Option(min=2, max=100_000, hidden=True,
                                                         help="Old name of --replicates.")
                             ] = None,
             out: out_option("results/validation; --out docs --overwrite regenerates "
                             "docs/validation.md") = None,
             seed: Annotated[int, typer.Option(min=0, max=2**63 - 1, metavar="SEED",
                                               help="Base seed.")] = 1991,
             engine: EngineOption = EngineChoice.numba,
             workers: workers_option("every core") = None,
             resume: ResumeOption = False,
             overwrite: OverwriteOption = False,
             ) -> None:
    """Reproduce published agent-based results; write validation.md, validation/*.csv and
    img/validation/*.png (only these: the folder may hold other files)."""
    from ci_sim.studies.validation import precision_line, verdict
    from ci_sim.studies.validation import validate as run_validation

    resume_or_overwrite(resume, overwrite)
    if replicates is not None and runs is not None:
        raise InputError("--replicates and --runs: --runs is the old name of --replicates; "
                         "give one")
    replicates = replicates if replicates is not None else runs

    def progress(message: str) -> None:
        console.print(message, style="dim", soft_wrap=True)

    out = out or Path("results/validation")
    done = run_validation(names, out=out, seed=seed, runs=replicates, engine=plain(engine),
                          workers=workers, progress=progress, resume=resume,
                          overwrite=overwrite)
    for results in done:
        extra = precision_line(results)
        console.print(verdict(results) + (f"; {extra}" if extra else ""), soft_wrap=True)
    console.print(f"Wrote {out}/validation.md, {out}/validation/*.csv, "
                  f"{out}/img/validation/*.png")


if __name__ == "__main__":
    app()
