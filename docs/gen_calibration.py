"""Regenerate the shipped calibration: the fit of ``experiments/calibration.toml`` on the
current model, its summary in ``src/ci_sim/builtin/calibration/`` and its section of
``docs/calibration.md``.

The shipped files are what ``tests/test_calibration_defaults.py`` compares the defaults of
``params.py`` with (each default must lie in its posterior's central 50% interval). After a
change to the model, run this, then set the defaults from ``summary.csv`` (its ``median``
column) and run the tests::

    python docs/gen_calibration.py                      # fit (about 20-30 minutes), ship, document
    python docs/gen_calibration.py --resume             # finish an interrupted fit
    python docs/gen_calibration.py --from results/calibration   # ship a finished fit
    python docs/gen_calibration.py --recheck            # after setting the defaults (~1 min)
    python docs/gen_calibration.py --check              # is the doc section current?
    python docs/gen_calibration.py --stability          # fit to fit (six more fits, ~1 hour)

The fit itself is ``ci-sim calibrate calibration --out results/calibration``; this script
copies its ``summary.csv``, ``patterns.csv``, ``posterior.parquet`` and ``calibration.json``
into the package and rewrites the part of ``docs/calibration.md`` between its markers.
``--recheck`` keeps the shipped posterior and re-runs what depends on the defaults of
``params.py``: where each default falls in its posterior (the summary) and the posterior
predictive check on the held-out seeds (posterior draws, posterior median, defaults).
``--stability`` fits :data:`VARIANTS` of the targets file that change only its seeds or
budget, into ``results/calibration-stability/NAME`` (a finished fit there of the same targets
is reused), and writes how far the medians move from fit to fit into the "Limits" of the
same page.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "ci_sim" / "builtin" / "calibration"
DOC = ROOT / "docs" / "calibration.md"
FILES = ("summary.csv", "patterns.csv", "posterior.parquet", "calibration.json")
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"
STABILITY = ("<!-- stability:start -->", "<!-- stability:end -->")
#: Fits of the shipped targets file that change only its seeds or its budget, by table and
#: key: ABC-SMC's own draws; the calibration seeds; twice as many calibration seeds (on each
#: base); twice the particles and evaluations (with each of ABC's seeds).
VARIANTS = {
    "abc-17": {"seeds": {"abc": 17}},
    "base-20261301": {"seeds": {"base": 20261301}},
    "12-seeds": {"seeds": {"replicates": 12}},
    "12-seeds-base-20261301": {"seeds": {"base": 20261301, "replicates": 12}},
    "240-particles": {"budget": {"particles": 240, "evaluations": 4000}},
    "240-particles-abc-17": {"budget": {"particles": 240, "evaluations": 4000},
                             "seeds": {"abc": 17}},
}


def number(value: float) -> str:
    return f"{value:.3g}"


def render(folder: Path) -> str:
    """The generated section of docs/calibration.md from a calibration's files."""
    summary = pd.read_csv(folder / "summary.csv")
    patterns = pd.read_csv(folder / "patterns.csv")
    record = json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
    seconds = record["seconds"]
    last = record["generations"][-1]
    versions = record["versions"]
    lines = [
        f"Fit of ci-sim {versions['ci_sim']} ({record['calibration']['library']}, Python "
        f"{versions['python']}) with `experiments/calibration.toml` (sha256 "
        f"`{record['targets']['sha256'][:12]}`): {len(record['generations'])} generations, "
        f"{record['evaluations']:,} evaluations = {record['model_runs']:,} ten-year model runs "
        f"({record['runs_per_evaluation']} per evaluation), then {record['check_runs']:,} runs "
        f"of the predictive check; {seconds['session']:,.0f} s wall on "
        f"{record['executor']['workers']} worker processes ({record['executor']['kind']}), of "
        f"which {seconds['predictive_check']:,.0f} s the check. Stopped: {record['stop']}. The "
        f"final generation's threshold was {number(last['epsilon'])} and its effective sample "
        f"size {last['effective_sample_size']:.0f} of {last['accepted']} particles.",
        "",
        "| parameter | median | 50% interval | 90% interval | posterior / prior width | "
        "default | default in the central 50%? | moved by |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for _, row in summary.iterrows():
        moved = row["moved_by"] if isinstance(row["moved_by"], str) else "none"
        lines.append(
            f"| `{row['parameter']}` | {number(row['median'])} | {number(row['p25'])} to "
            f"{number(row['p75'])} | {number(row['p05'])} to {number(row['p95'])} | "
            f"{row['width_ratio']:.2f} | {number(row['default'])} | "
            f"{'yes' if row['default_in_central_50'] else '**no** (quantile ' + format(row['default_quantile'], '.0%') + ')'}"
            f" | {moved.replace(';', ',')} |")
    lines += ["", "| pattern | band | met, calibration seeds (final particles) | met, held-out "
              "seeds (posterior draws) | median, held-out | at the defaults, held-out |",
              "|---|---|---|---|---|---|"]
    for _, row in patterns.iterrows():
        lines.append(f"| `{row['pattern']}` | {row['band']} | "
                     f"{row['calibration_met_share']:.0%} | {row['held_out_met_share']:.0%} | "
                     f"{number(row['held_out_median'])} | {number(row['at_defaults'])}"
                     f"{'' if row['at_defaults_met'] else ' (missed)'} |")
    return "\n".join(lines)


def rewrite(section: str, check: bool, markers: tuple[str, str] = (START, END)) -> bool:
    """Put ``section`` between the ``markers`` of docs/calibration.md; with ``check``, only
    say whether it is there already."""
    start, end = markers
    text = DOC.read_text(encoding="utf-8")
    if start not in text or end not in text:
        raise SystemExit(f"{DOC}: the markers {start} and {end} are missing")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    updated = f"{head}{start}\n{section}\n{end}{tail}"
    if check:
        return updated == text
    DOC.write_text(updated, encoding="utf-8")
    return True


def with_changes(text: str, changes: dict[str, dict[str, int]]) -> str:
    """The targets file ``text`` with the given keys of its tables (``{"seeds": {"abc":
    17}}``) set to new values (each key must be there once in its table; comments on those
    lines are dropped)."""
    for table, values in changes.items():
        head, section, tail = re.split(rf"^(\[{table}\][^\[]*)", text, maxsplit=1,
                                       flags=re.M)
        for key, value in values.items():
            section, found = re.subn(rf"^{key}\s*=.*$", f"{key} = {value}", section,
                                     flags=re.M)
            if found != 1:
                raise SystemExit(f"[{table}] of the targets file: expected one '{key} =' line")
        text = head + section + tail
    return text


def stability_fits(out: Path, workers: int | None) -> dict[str, Path]:
    """Each of :data:`VARIANTS` fitted into ``out/NAME`` (its targets file ``out/NAME.toml``),
    reusing a finished fit there whose targets are the shipped fit's with those changes."""
    from ci_sim.studies.calibration import run_calibration
    from ci_sim.studies.loading import study_file

    shipped = json.loads((SHIPPED / "calibration.json").read_text(encoding="utf-8"))
    text = study_file("calibration").read_text(encoding="utf-8")
    folders = {}
    content = shipped["targets"]["content"]
    for name, changes in VARIANTS.items():
        folder = out / name
        expected = {**content, **{table: {**content[table], **values}
                                  for table, values in changes.items()}}
        record = folder / "calibration.json"
        if record.exists() and json.loads(record.read_text(encoding="utf-8"))[
                "targets"]["content"] == expected:
            print(f"{name}: reusing the fit in {folder}")
        else:
            out.mkdir(parents=True, exist_ok=True)
            targets = out / f"{name}.toml"
            targets.write_text(with_changes(text, changes), encoding="utf-8")
            print(f"{name}: fitting {targets} into {folder}")
            # resume an interrupted fit of these targets; replace a fit of other targets
            run_calibration(targets, folder, workers=workers, resume=True,
                            overwrite=record.exists())
        folders[name] = folder
    return folders


def render_stability(folders: dict[str, Path]) -> str:
    """The fit-to-fit section: every fit's medians, and how far they move (as a share of
    the prior's range) when only ABC's draws or only the calibration seeds change."""
    from ci_sim.studies.calibration.targets import load_plan

    fits = {"shipped": SHIPPED, **folders}
    summaries = {name: pd.read_csv(folder / "summary.csv").set_index("parameter")
                 for name, folder in fits.items()}
    records = {name: json.loads((folder / "calibration.json").read_text(encoding="utf-8"))
               for name, folder in fits.items()}
    shipped = summaries["shipped"]

    def label(name: str) -> str:
        content = records[name]["targets"]["content"]
        seeds, budget = content["seeds"], content["budget"]
        return (f"{seeds['replicates']} seeds of base {seeds['base']}, ABC draws "
                f"{seeds['abc']}, {budget['particles']} particles, budget "
                f"{budget['evaluations']:,} evaluations")

    priors = load_plan("calibration").targets.parameters

    def moves(first: str, second: str) -> pd.Series:
        return pd.Series({parameter: abs(
            prior.cdf(summaries[first].loc[parameter, "median"])
            - prior.cdf(summaries[second].loc[parameter, "median"]))
            for parameter, prior in priors.items()})

    pairs = {"ABC's draws changed, 120 particles": ("shipped", "abc-17"),
             "ABC's draws changed, 240 particles": ("240-particles", "240-particles-abc-17"),
             "calibration seeds changed, 6 seeds": ("shipped", "base-20261301"),
             "calibration seeds changed, 12 seeds": ("12-seeds", "12-seeds-base-20261301")}
    lines = ["Generated by `python docs/gen_calibration.py --stability`: the shipped fit and "
             f"{len(folders)} fits of the same targets that change only their seeds or "
             "budget. The fits:", ""]
    for name, record in records.items():
        last = record["generations"][-1]
        lines.append(f"- {name}: {label(name)}; {record['evaluations']:,} evaluations, "
                     f"final effective sample size {last['effective_sample_size']:.0f} of "
                     f"{last['accepted']}.")
    lines += ["", "| parameter | " + " | ".join(fits) + " | "
              + " | ".join(pairs) + " |",
              "|---|" + "---|" * (len(fits) + len(pairs))]
    moved = {pair: moves(*fits_) for pair, fits_ in pairs.items()}
    for parameter in shipped.index:
        lines.append(f"| `{parameter}` | " + " | ".join(
            number(summaries[name].loc[parameter, "median"]) for name in fits) + " | "
            + " | ".join(f"{moved[pair][parameter]:.0%}" for pair in pairs) + " |")
    lines += ["", "The last columns: how far the median moves between the two fits, as a "
              "share of the prior's range (of its logarithm for a log-uniform prior). Mean "
              "over the parameters: " + "; ".join(
                  f"{pair} {values.mean():.0%}" for pair, values in moved.items()) + "."]
    outside = [parameter for parameter in shipped.index
               if not all(summaries[name].loc[parameter, "p25"] <= shipped.loc[
                   parameter, "default"] <= summaries[name].loc[parameter, "p75"]
                   for name in fits)]
    lines.append("Defaults outside the central 50% of some fit: "
                 + (", ".join(f"`{parameter}`" for parameter in outside) or "none") + ".")
    return "\n".join(lines)


def recheck() -> None:
    """Redo the summary's default columns and the predictive check from the shipped
    posterior with the defaults params.py has now; the fit is untouched."""
    import time

    import numpy as np

    from ci_sim.executors import make_executor
    from ci_sim.model.params import describe
    from ci_sim.studies.calibration import read_posterior
    from ci_sim.studies.calibration.checks import DEFAULTS, MEDIAN, predictive_check
    from ci_sim.studies.calibration.targets import load_plan
    from ci_sim.studies.stats import weighted_quantile

    plan = load_plan("calibration")
    posterior, metadata = read_posterior(SHIPPED / "posterior.parquet")
    if metadata["provenance"]["targets"]["sha256"] != plan.digest:
        raise SystemExit("experiments/calibration.toml changed since the fit: refit with "
                         "python docs/gen_calibration.py")
    summary = pd.read_csv(SHIPPED / "summary.csv")
    weights = posterior["weight"].to_numpy()
    for i, name in enumerate(summary["parameter"]):
        values = posterior[name].to_numpy()
        default = float(describe(name)["default"])
        low, high = weighted_quantile(values, weights, [0.05, 0.95])
        summary.loc[i, "default"] = default
        summary.loc[i, "default_quantile"] = float(
            np.sum(weights[values < default]) + 0.5 * np.sum(weights[values == default]))
        summary.loc[i, "default_in_central_50"] = bool(
            summary.loc[i, "p25"] <= default <= summary.loc[i, "p75"])
        summary.loc[i, "default_in_central_90"] = bool(low <= default <= high)
    started = time.perf_counter()
    with make_executor() as executor:
        check = predictive_check(plan, posterior, executor)
    # the posterior's own draws and median must come out as in the fit: same seeds, same model
    shipped = pd.read_csv(SHIPPED / "patterns.csv").set_index("pattern")
    again = check[check["kind"] == MEDIAN].set_index("pattern")["value"]
    if not np.allclose(again.loc[shipped.index], shipped["at_posterior_median"], atol=1e-9):
        raise SystemExit("the posterior median's check differs from the fit's: the model "
                         "changed since the fit; refit with python docs/gen_calibration.py")
    seconds = time.perf_counter() - started
    patterns = pd.read_csv(SHIPPED / "patterns.csv")  # the fit's columns stay as they are
    at_defaults = check[check["kind"] == DEFAULTS].set_index("pattern")
    patterns["at_defaults"] = [float(at_defaults.loc[name, "value"])
                               for name in patterns["pattern"]]
    patterns["at_defaults_met"] = [bool(at_defaults.loc[name, "met"])
                                   for name in patterns["pattern"]]
    summary.to_csv(SHIPPED / "summary.csv", index=False)
    patterns.to_csv(SHIPPED / "patterns.csv", index=False)
    path = SHIPPED / "calibration.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["summary"] = summary.to_dict("records")
    record["patterns"] = patterns.to_dict("records")
    record["seconds"]["predictive_check"] = seconds
    path.write_text(json.dumps(record, indent=2, default=float), encoding="utf-8")
    print(f"Re-ran the predictive check ({len(check) // len(plan.patterns)} parameter sets on "
          f"{len(plan.check_seeds)} held-out seeds, {seconds:.0f} s) with the current defaults:")
    print(patterns[["pattern", "band", "at_posterior_median", "at_defaults",
                    "at_defaults_met"]].to_string(index=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path,
                        help="a finished calibration's folder to ship instead of fitting")
    parser.add_argument("--out", type=Path, default=Path("results/calibration"),
                        help="where the fit writes (default results/calibration)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all)")
    parser.add_argument("--resume", action="store_true", help="finish an interrupted fit")
    parser.add_argument("--overwrite", action="store_true", help="replace --out")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/calibration.md does not show the shipped fit")
    parser.add_argument("--recheck", action="store_true",
                        help="keep the shipped fit; redo what depends on the defaults")
    parser.add_argument("--stability", action="store_true",
                        help="fit the seed variants; write how far the medians move")
    args = parser.parse_args()
    if args.stability:
        folders = stability_fits(Path("results/calibration-stability"), args.workers)
        rewrite(render_stability(folders), check=False, markers=STABILITY)
        print(f"Updated the fit-to-fit section of {DOC.relative_to(ROOT)}")
        return
    if args.recheck:
        recheck()
        rewrite(render(SHIPPED), check=False)
        return
    if args.check:
        current = rewrite(render(SHIPPED), check=True)
        print("docs/calibration.md is current" if current else
              "docs/calibration.md does not show the shipped fit; run python "
              "docs/gen_calibration.py --from " + str(SHIPPED))
        sys.exit(0 if current else 1)
    source = args.source
    if source is None:
        from ci_sim.studies.calibration import run_calibration

        _, written = run_calibration("calibration", args.out, workers=args.workers,
                                     resume=args.resume, overwrite=args.overwrite)
        source = written[0].parent
    if source.resolve() != SHIPPED.resolve():
        SHIPPED.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(source / name, SHIPPED / name)
    rewrite(render(SHIPPED), check=False)
    summary = pd.read_csv(SHIPPED / "summary.csv")
    print(f"Shipped {', '.join(FILES)} to {SHIPPED.relative_to(ROOT)} and updated "
          f"{DOC.relative_to(ROOT)}. Defaults to set from the medians:")
    for _, row in summary.iterrows():
        flag = "" if row["default_in_central_50"] else "   <- outside the central 50%"
        print(f"  {row['parameter']:34} median {row['median']:.4g} (default "
              f"{row['default']:.4g}){flag}")


if __name__ == "__main__":
    main()
