"""Regenerate the ``sobol_conditions`` results in ``docs/sweeps.md`` and their figure.

Runs the shipped experiment (``ci-sim sweep sobol_conditions``, about 10 minutes on 2 cores)
or reads a finished one (``--from DIR``), writes the part of the page between
``<!-- sobol:start -->`` and ``<!-- sobol:end -->`` from its ``indices.csv`` and
``summary.json`` (the indices of every output, the pairs the intervals cannot rank, the
first PRIM box) and copies its ``indices.png`` to ``docs/img/sweeps/``.

Usage::

    python docs/gen_sweeps.py                                # run the sweep, then write
    python docs/gen_sweeps.py --from results/sobol_conditions
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "sweeps.md"
FIGURE = DOCS / "img" / "sweeps" / "sobol_conditions_indices.png"
MARKERS = ("<!-- sobol:start -->", "<!-- sobol:end -->")
EXPERIMENT = "sobol_conditions"


def index_table(indices: pd.DataFrame, output: str) -> list[str]:
    """One row per parameter, by total-order index: ST and S1 with their 95% half-widths."""
    table = indices[indices["output"] == output].pivot(index="parameter", columns="index",
                                                       values=["value", "conf"])
    table = table.sort_values(("value", "ST"), ascending=False)
    lines = ["| rank | parameter | ST | S1 |", "|---|---|---|---|"]
    for rank, (name, row) in enumerate(table.iterrows(), start=1):
        lines.append(f"| {rank} | `{name}` | {row[('value', 'ST')]:.3f} ± "
                     f"{row[('conf', 'ST')]:.3f} | {row[('value', 'S1')]:.3f} ± "
                     f"{row[('conf', 'S1')]:.3f} |")
    return lines


def top(indices: pd.DataFrame, output: str, count: int = 2) -> str:
    rows = indices[(indices["output"] == output) & (indices["index"] == "ST")]
    rows = rows.sort_values("value", ascending=False).head(count)
    return ", ".join(f"`{row.parameter}` (ST {row.value:.2f})" for row in rows.itertuples())


def section(folder: Path, seconds: float | None) -> str:
    """The results, in words and a table, from a finished sweep's files."""
    indices = pd.read_csv(folder / "indices.csv")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    outputs = list(summary["ranking"])
    first = outputs[0]
    took = seconds if seconds is not None else summary["run_seconds"]
    lines = [
        f"`ci-sim sweep {EXPERIMENT}` (ci-sim {summary['ci_sim']}, seed {summary['seed']}): "
        f"{summary['samples']:,} base samples, {summary['points']:,} runs, "
        f"{took:,.0f} s on {summary['workers']} worker(s) of a 2-core machine. Total-order "
        f"(ST) and first-order (S1) indices with their 95% intervals, `{first}`:",
        "",
        *index_table(indices, first),
        "",
    ]
    for output in outputs[1:]:
        lines.append(f"- `{output}`: led by {top(indices, output)}.")
    unranked = [warning for warning in summary["warnings"] if "cannot be ranked" in warning]
    if unranked:
        lines.append(f"- Pairs whose intervals overlap, so the sweep cannot rank them: "
                     f"{len(unranked)} output(s) warn (`summary.json`, `warnings`).")
    discovery = summary.get("discovery") or {}
    if discovery.get("boxes"):
        box = discovery["boxes"][0]
        bound = (f"at least {discovery['at_least']:g}" if discovery.get("at_least") is not None
                 else f"at most {discovery['at_most']:g}")
        worst_p = max(box["quasi_p"].values())
        kept = min(box["resampled"].values())
        lines.append(
            f"- PRIM's first box for `{discovery['output']}` {bound} (base rate "
            f"{discovery['success_rate']:.0%}; coverage {box['coverage']:.0%}, density "
            f"{box['density']:.0%}): {box['rule']}; every restriction's quasi-p at most "
            f"{worst_p:.2g}, each kept in at least {kept:.0%} of resamples.")
    return "\n".join(lines)


def replace_section(text: str, body: str) -> str:
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{PAGE}: markers {start} ... {end} not found")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path,
                        help="a finished sobol_conditions sweep's folder (default: run one)")
    parser.add_argument("--workers", type=int, default=None)
    arguments = parser.parse_args(argv)
    seconds = None
    with tempfile.TemporaryDirectory() as scratch:
        folder = arguments.source
        if folder is None:
            from ci_sim.studies.sweep import run_sweep

            folder = Path(scratch) / EXPERIMENT
            started = time.perf_counter()
            run_sweep(EXPERIMENT, folder, workers=arguments.workers)
            seconds = time.perf_counter() - started
        PAGE.write_text(replace_section(PAGE.read_text(encoding="utf-8"),
                                        section(folder, seconds)), encoding="utf-8")
        FIGURE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / "indices.png", FIGURE)
    print(f"wrote {PAGE} and {FIGURE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
