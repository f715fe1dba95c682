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

The fit itself is ``ci-sim calibrate calibration --out results/calibration``; this script
copies its ``summary.csv``, ``patterns.csv``, ``posterior.parquet`` and ``calibration.json``
into the package and rewrites the part of ``docs/calibration.md`` between its markers.
``--recheck`` keeps the shipped posterior and re-runs what depends on the defaults of
``params.py``: where each default falls in its posterior (the summary) and the posterior
predictive check on the held-out seeds (posterior draws, posterior median, defaults).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "src" / "ci_sim" / "builtin" / "calibration"
DOC = ROOT / "docs" / "calibration.md"
FILES = ("summary.csv", "patterns.csv", "posterior.parquet", "calibration.json")
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"


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


def rewrite(section: str, check: bool) -> bool:
    """Put ``section`` between the markers of docs/calibration.md; with ``check``, only say
    whether it is there already."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers {START} and {END} are missing")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{START}\n{section}\n{END}{tail}"
    if check:
        return updated == text
    DOC.write_text(updated, encoding="utf-8")
    return True


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
    args = parser.parse_args()
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
