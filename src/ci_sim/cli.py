"""The ``ci-sim`` command line: each command parses, calls one library function, prints.

Bad input prints one line to stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from ci_sim.scenarios import InputError, load_scenario, parse_assignment

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Simulate Collective Impact: isolated impact, coalitions and backbones.")
console = Console()

EXIT_BAD_INPUT = 2


def report_error(message: str) -> None:
    """Print one line to stderr (markup in the message is printed literally)."""
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}", highlight=False,
                               soft_wrap=True)


def fail(message: str) -> None:
    """Print one line to stderr and exit with code 2."""
    report_error(message)
    raise typer.Exit(EXIT_BAD_INPUT)


def progress_bar() -> Progress:
    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TimeRemainingColumn(), console=console,
                    transient=True, disable=not sys.stderr.isatty() and not console.is_terminal)


def resolve(source: Optional[str], problem: Optional[str], years: Optional[float],
            assignments: list[str]):
    """Load a scenario with the command-line overrides applied; InputError on bad input."""
    overrides = dict(parse_assignment(text) for text in assignments)
    if problem is not None:
        overrides["problem.type"] = problem
    if years is not None:
        overrides["years"] = years
    return load_scenario(source, overrides)


ProblemOption = Annotated[Optional[str], typer.Option(
    "--problem", help="simple | complicated | complex (default: the scenario's).")]
ReplicatesOption = Annotated[int, typer.Option(min=1, max=100_000,
                                               help="Replicates (different seeds).")]
EngineOption = Annotated[str, typer.Option(help="numba (fast) or python (reference).")]


@app.command()
def run(scenario: Annotated[Optional[str], typer.Argument(
            help="Built-in scenario name or TOML file (default: collective_impact).")] = None,
        problem: ProblemOption = None,
        seed: Annotated[int, typer.Option(help="Base seed; replicate seeds derive from it.")] = 0,
        years: Annotated[Optional[float], typer.Option(help="Simulated years.")] = None,
        replicates: ReplicatesOption = 20,
        engine: EngineOption = "numba",
        set_: Annotated[list[str], typer.Option("--set", help="Override KEY=VALUE, e.g. "
                                                "conditions.common_agenda=0.5.")] = [],
        out: Annotated[Optional[Path], typer.Option(help="Output folder "
                                                    "(default: results/SCENARIO).")] = None,
        ) -> None:
    """Run a scenario; write timeseries.parquet, summary.json and outcome.png; print a summary."""
    from ci_sim.outputs import SUMMARY_METRICS, run_scenario

    try:
        check_engine(engine)
        resolved, digest = resolve(scenario, problem, years, set_)
    except InputError as error:
        fail(str(error))
    out = out or Path("results") / resolved.name
    with progress_bar() as bar:
        task = bar.add_task(f"{resolved.name}", total=replicates)
        summary = run_scenario(resolved, digest, seed=seed, replicates=replicates, engine=engine,
                               out=out, progress=lambda: bar.advance(task))
    table = Table(title=f"{resolved.name}: {resolved.problem.type} problem, year "
                        f"{resolved.years:g}, {replicates} replicates (seed {seed})")
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% interval", justify="right")
    for metric in SUMMARY_METRICS:
        value = summary["final"][metric]
        table.add_row(metric, f"{value['mean']:.3f}", f"{value['low']:.3f} .. {value['high']:.3f}")
    console.print(table)
    reached = ", ".join(f"{name} {share:.0%}" for name, share in summary["gateway_reached"].items())
    console.print(f"Gateway reached by share of replicates: {reached}")
    console.print(f"Wrote {out}/timeseries.parquet, summary.json, outcome.png")


@app.command()
def compare(scenarios: Annotated[list[str], typer.Argument(help="Scenario names or files.")],
            problem: ProblemOption = None,
            seed: Annotated[int, typer.Option(help="Base seed shared by all scenarios.")] = 0,
            years: Annotated[Optional[float], typer.Option(help="Simulated years.")] = None,
            replicates: ReplicatesOption = 20,
            engine: EngineOption = "numba",
            out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/compare"),
            ) -> None:
    """Run scenarios on the same seeds; write compare.csv and compare.png."""
    from ci_sim.outputs import compare_scenarios

    try:
        check_engine(engine)
        loaded = [resolve(source, problem, years, []) for source in scenarios]
    except InputError as error:
        fail(str(error))
    names = [scenario.name for scenario, _ in loaded]
    if len(set(names)) < len(names):
        fail(f"scenarios: names must differ, got {', '.join(names)}")
    with progress_bar() as bar:
        task = bar.add_task("compare", total=replicates * len(loaded))
        table = compare_scenarios(loaded, seed=seed, replicates=replicates, engine=engine,
                                  out=out, progress=lambda: bar.advance(task))
    view = Table(title=f"Final values after {loaded[0][0].years:g} years, mean ± 95% "
                       "half-interval")
    view.add_column("metric", no_wrap=True)
    for name in names:
        view.add_column(name, justify="right", overflow="fold", min_width=13)
    for metric in ("outcome", "agenda_alignment", "mean_trust", "funding_gini", "gateway"):
        rows = table[table["metric"] == metric].set_index("scenario")
        view.add_row(metric, *(f"{rows.loc[name, 'mean']:.3f} ± "
                               f"{(rows.loc[name, 'high'] - rows.loc[name, 'low']) / 2:.3f}"
                               for name in names))
    console.print(view)
    console.print(f"Wrote {out}/compare.csv, compare.png")


@app.command("scenarios")
def list_scenarios() -> None:
    """List the built-in scenarios."""
    from ci_sim.scenarios import builtin_names

    for name in builtin_names():
        scenario, _ = load_scenario(name)
        console.print(f"[bold]{name:24}[/] {escape(scenario.description)}", highlight=False,
                      soft_wrap=True)


@app.command()
def check(files: Annotated[list[Path], typer.Argument(help="Scenario TOML files.")]) -> None:
    """Validate scenario files without running them."""
    failed = False
    for path in files:
        try:
            load_scenario(path if path.suffix else Path(f"{path}"))
        except InputError as error:
            report_error(str(error))
            failed = True
        else:
            console.print(f"{escape(str(path))}: ok", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


SHOCK_HELP = ("Shock to run at every share (repeat for several): none; backbone_cut:YEAR; "
              "pool_cut:YEAR:FRACTION; champion_leaves:YEAR; funder_withdraws:YEAR; "
              "short_funding:YEARS. Join with '+' to combine, e.g. "
              "backbone_cut:3+champion_leaves:3. Default: the experiment's list.")


@app.command("stress-test")
def stress_test(
        scenario: Annotated[Optional[str], typer.Argument(
            help="Built-in scenario name or TOML file (default: the experiment's).")] = None,
        config: Annotated[Optional[Path], typer.Option(
            help="Experiment file (default: the built-in defaults, the same as "
                 "experiments/backbone_stress.toml).")] = None,
        shares: Annotated[Optional[str], typer.Option(
            help="Backbone shares of the pool: START:STOP:STEP (STOP included) or a comma "
                 "list, each 0..1. Default 0:0.30:0.02.")] = None,
        problem: ProblemOption = None,
        budget: Annotated[Optional[float], typer.Option(
            help="Funding pool, money units per month (default: the scenario's).")] = None,
        years: Annotated[Optional[float], typer.Option(help="Simulated years.")] = None,
        replicates: Annotated[Optional[int], typer.Option(
            help="Replicates per share and shock, on the same seeds.")] = None,
        shock: Annotated[list[str], typer.Option("--shock", help=SHOCK_HELP)] = [],
        seed: Annotated[Optional[int], typer.Option(help="Base seed.")] = None,
        engine: Annotated[Optional[str], typer.Option(help="numba or python.")] = None,
        set_: Annotated[list[str], typer.Option("--set", help="Override KEY=VALUE, e.g. "
                                                "conditions.common_agenda=0.5.")] = [],
        workers: Annotated[Optional[int], typer.Option(
            help="Processes on this machine (default: every core; 1 runs in this process).")
            ] = None,
        scheduler: Annotated[Optional[str], typer.Option(
            help="'local' (a Dask cluster on this machine) or a Dask scheduler address such "
                 "as tcp://host:8786.")] = None,
        out: Annotated[Path, typer.Option(help="Output folder.")] = Path("results/stress"),
        ) -> None:
    """Funder stress test: sweep the backbone's share of the pool under shocks.

    Writes report.html (one self-contained file), stress.csv, stress.json and the figures.
    """
    import time

    from ci_sim.stress import ALL_SHOCKS, load_experiment, run_stress_test

    started = time.perf_counter()
    try:
        experiment = load_experiment(config, scenario=scenario, problem=problem, shares=shares,
                                     budget=budget, years=years, replicates=replicates,
                                     shocks=shock or None, seed=seed, engine=engine,
                                     set=dict(parse_assignment(text) for text in set_) or None)
        with progress_bar() as bar:
            def progress(total: int):
                task = bar.add_task("stress test", total=total)
                return lambda: bar.advance(task)

            result, written = run_stress_test(experiment, out, workers=workers,
                                              scheduler=scheduler, progress=progress)
    except InputError as error:
        fail(str(error))
    view = Table(title=f"Best backbone share, {result.plan.experiment.replicates} replicates "
                       f"(90% bootstrap interval)")
    for column in ("situation", "best share", "interval", "within 1 point", "90% of gain"):
        view.add_column(column, justify="left" if column == "situation" else "right")
    for label, optimum in result.optima.items():
        view.add_row(label, f"{optimum.share:.1%}", f"{optimum.low:.1%} .. {optimum.high:.1%}",
                     f"{optimum.near_low:.0%} .. {optimum.near_high:.0%}",
                     f"{optimum.sufficient_share:.1%}", style="bold" if label == ALL_SHOCKS else None)
    console.print(view)
    console.print(f"Wrote {', '.join(str(path) for path in written)} "
                  f"in {time.perf_counter() - started:.0f} s")


@app.command()
def workshop(host: Annotated[str, typer.Option(help="Address to serve on.")] = "127.0.0.1",
             port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8765,
             open_browser: Annotated[bool, typer.Option("--open/--no-open",
                                                        help="Open a browser tab.")] = False,
             ) -> None:
    """Serve the workshop page: before and after runs side by side, presets, toggles.

    Works without internet. Stop it with Ctrl+C.
    """
    from ci_sim.app import serve

    console.print(f"Workshop page at http://{host}:{port} (Ctrl+C to stop)", highlight=False)
    try:
        serve(host=host, port=port, open_browser=open_browser)
    except InputError as error:
        fail(str(error))


@app.command()
def figures(preset: Annotated[str, typer.Option(help="Preset name, or all.")] = "all",
            out: Annotated[Path, typer.Option(help="Output folder.")] = Path("figures"),
            seed: Annotated[int, typer.Option(help="Base seed; replicate seeds derive from it.")
                            ] = 0,
            replicates: Annotated[int, typer.Option(min=2, max=10_000, help="Paired runs "
                                                    "behind each slide.")] = 20,
            ) -> None:
    """Write slide-ready figures for workshop presets: NAME.png, NAME_network.png, NAME.gif."""
    from ci_sim.figures import make_figures
    from ci_sim.presets import PRESETS, get_preset

    try:
        chosen = list(PRESETS) if preset == "all" else [get_preset(preset)]
    except InputError as error:
        fail(str(error))
    with console.status(f"Drawing {len(chosen)} preset(s)"):
        entries = make_figures(chosen, out, seed=seed, replicates=replicates)
    for entry in entries:
        console.print(f"[bold]{entry['preset']}[/]: {entry['title']}", highlight=False)
    console.print(f"Wrote {len(entries) * 3} figures and figures.json to {out}", highlight=False)


# ---------------------------------------------------------------------------- sweeps
def sweep_progress() -> Progress:
    """Runs done, runs per second and time left."""
    from rich.progress import TextColumn

    return Progress("[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), TextColumn("{task.fields[rate]} runs/s"),
                    TimeRemainingColumn(), console=console, transient=True,
                    disable=not sys.stderr.isatty() and not console.is_terminal)


def print_sweep(result, folder: Path) -> None:
    from ci_sim.sweep.analysis import describe_box

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
        console.print(f"Box {number}: {describe_box(box, result.runs)} (coverage "
                      f"{box.coverage:.0%}, density {box.density:.0%})", highlight=False)
    for message in result.analysis.warnings:
        console.print(f"[yellow]warning:[/] {message}", highlight=False)
    console.print(f"Wrote {', '.join(path.name for path in result.written)} in {folder}",
                  highlight=False)


@app.command()
def sweep(experiment: Annotated[Path, typer.Argument(help="Experiment file (TOML).")],
          out: Annotated[Optional[Path], typer.Option(
              help="Sweep folder (default: results/NAME).")] = None,
          workers: Annotated[Optional[int], typer.Option(
              help="Worker processes on this machine (default: every core; 1 runs "
                   "in this process).")] = None,
          scheduler: Annotated[Optional[str], typer.Option(
              help="Dask scheduler: tcp://host:port, or 'local' to start a LocalCluster.")
                    ] = None,
          resume: Annotated[bool, typer.Option(
              help="Finish an interrupted sweep in --out, running only what is missing.")
                    ] = False,
          ) -> None:
    """Run a sensitivity-analysis sweep; write runs.parquet, indices.csv and the plots."""
    import time

    from ci_sim.sweep import run_sweep

    started = {}
    with sweep_progress() as bar:
        task = bar.add_task("sweep", total=None, rate="-")

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            first = started.setdefault("at", (now, done))
            rate = (done - first[1]) / (now - first[0]) if now > first[0] else 0.0
            bar.update(task, completed=done, total=total, rate=f"{rate:.1f}")

        try:
            result = run_sweep(experiment, out, workers=workers, scheduler=scheduler,
                               resume=resume, progress=progress)
        except InputError as error:
            fail(str(error))
    folder = out or Path("results") / result.experiment.name
    console.print(f"{result.experiment.name}: {len(result.runs)} runs ({result.ran} run now) "
                  f"in {result.seconds:.0f} s", highlight=False)
    print_sweep(result, folder)


@app.command()
def analyze(folder: Annotated[Path, typer.Argument(help="Folder of a finished sweep.")]
            ) -> None:
    """Recompute a sweep's indices, convergence check, discovery and plots from its runs."""
    from ci_sim.sweep import analyze_sweep

    try:
        result = analyze_sweep(folder)
    except InputError as error:
        fail(str(error))
    print_sweep(result, folder)


@app.command()
def validate(names: Annotated[Optional[list[str]], typer.Argument(
                 help="Experiments to run (default: all): march1991_learning_rates, "
                      "march1991_turnover, lazer_friedman2007, trust_asymmetry.")] = None,
             runs: Annotated[Optional[int], typer.Option(
                 help="Replicates per grid point (default: each experiment's own; March "
                      "adds replicates towards a 95% half-interval of 0.01).")] = None,
             out: Annotated[Path, typer.Option(help="Output folder.")] = Path(
                 "results/validation"),
             seed: Annotated[int, typer.Option(help="Base seed.")] = 1991,
             engine: EngineOption = "numba",
             workers: Annotated[Optional[int], typer.Option(
                 help="Processes on this machine (default: every core; 1 runs in this "
                      "process).")] = None,
             ) -> None:
    """Reproduce published agent-based results; write tables, figures and validation.md."""
    from ci_sim.validation import precision_line, verdict
    from ci_sim.validation import validate as run_validation

    def progress(message: str) -> None:
        console.print(f"[dim]{message}[/]", highlight=False, soft_wrap=True)

    try:
        done = run_validation(names, out=out, seed=seed, runs=runs, engine=engine,
                              workers=workers, progress=progress)
    except InputError as error:
        fail(str(error))
    for results in done:
        extra = precision_line(results)
        console.print(verdict(results) + (f"; {extra}" if extra else ""), highlight=False,
                      soft_wrap=True)
    console.print(f"Wrote {out}/validation.md, {out}/validation/*.csv, "
                  f"{out}/img/validation/*.png", highlight=False)


def check_engine(engine: str) -> None:
    from ci_sim.engines import ENGINES

    if engine not in ENGINES:
        raise InputError(f"--engine: must be one of {', '.join(ENGINES)}, got {engine!r}")


if __name__ == "__main__":
    app()
