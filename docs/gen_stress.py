"""Regenerate the results section of ``docs/stress-test.md`` and the report's screenshot.

Runs the default stress test (``ci-sim stress-test``, the shipped ``backbone_stress``
experiment) or reads a finished one (``--from DIR``), writes the section between
``<!-- stress-results:start -->`` and ``<!-- stress-results:end -->`` from its
``stress.json``, and takes ``docs/img/stress_report.png``: the report's first screen in
headless Chromium (Debian's ``/usr/bin/chromium`` through playwright).

Then it runs the same stress test twice more with :data:`REPLICATES` replicates, from seeds
alone and with the shipped calibration's posterior (``--posterior``), and says how much
wider the range of shares that may be the best is when parametric uncertainty is
included.

Usage::

    python docs/gen_stress.py                         # run (about 2 minutes on 2 cores)
    python docs/gen_stress.py --from results/stress   # use a finished run (no comparison)
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import time
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
PAGE = DOCS / "stress-test.md"
SCREENSHOT = DOCS / "img" / "stress_report.png"
CHROMIUM = Path("/usr/bin/chromium")
MARKERS = ("<!-- stress-results:start -->", "<!-- stress-results:end -->")
#: Replicates of the comparison with and without the posterior: replicates are the
#: posterior's draws, so more than the default's 10.
REPLICATES = 40


def percent(share: float) -> str:
    return f"{100 * share:.0f}%" if abs(100 * share - round(100 * share)) < 1e-9 else \
        f"{100 * share:.1f}%"


def section(record: dict[str, Any], *, seconds: float | None, workers: int | None) -> str:
    """The results section, in words, from a stress test's ``stress.json``."""
    experiment = record["experiment"]
    robust = record["robustness"]
    optima = record["optima"]
    overall = optima.get("all situations (equal weight)") or next(iter(optima.values()))
    best = max(robust, key=lambda row: row["expected_outcome"])
    worst = min(robust, key=lambda row: row["expected_outcome"])
    good = [row for row in robust if row["good"]]
    spend = [row["backbone_money_per_month"] for row in good]
    picks = {
        "expected outcome": max(robust, key=lambda row: row["expected_outcome"]),
        "5th percentile": max(robust, key=lambda row: row["outcome_p05"]),
        "minimax regret": min(robust, key=lambda row: row["max_regret"]),
        "chance of reaching the target": max(robust, key=lambda row: row["target_probability"]),
    }
    command = "ci-sim stress-test" + (f" --workers {workers}" if workers else "")
    timing = f", {seconds:.0f} s" if seconds is not None else ""
    lines = [
        f"With the defaults (`{command}`{timing}; ci-sim {record['versions']['ci_sim']}, "
        f"seed {record['seed']}, {experiment['replicates']} replicates in each of "
        f"{len(record['worlds'])} situations):",
        "",
        f"- **Good shares: {percent(overall['near_low'])} to {percent(overall['near_high'])} "
        f"of the pool**, every one within one point of the best expected outcome "
        f"({best['expected_outcome']:.3f}, at {percent(best['backbone_share'])}; "
        f"{worst['expected_outcome']:.3f} at {percent(worst['backbone_share'])}). The best "
        f"share, about {percent(overall['share'])}, may be anywhere from "
        f"{percent(overall['low'])} to {percent(overall['high'])} (the shares no other beats "
        f"by more than chance allows, 90% confidence); "
        f"{percent(overall['sufficient_share'])} already gets 90% of the gain.",
        f"- Across the good range the model paid the backbone {min(spend):,.0f} to "
        f"{max(spend):,.0f} money units a month (backbone_spend, shocks included).",
        "- The criteria side by side: " + "; ".join(
            f"the best {name} picks {percent(row['backbone_share'])}"
            f" ({'in' if row['good'] else 'outside'} the good range)"
            for name, row in picks.items())
        + f" (target {record['target']:.2f}).",
    ]
    sensitivity = record["decision_sensitivity"]
    if sensitivity and not sensitivity[0]["beyond_chance"]:
        top = sensitivity[0]
        lines.append("- No uncertainty tested moves the best share beyond chance ("
                     + ", ".join(row["uncertainty"] for row in sensitivity) + "): in every "
                     f"part the overall best share may still be the best. The largest shift "
                     f"is {top['uncertainty']}'s ({top['best_shares']}).")
    elif sensitivity:
        top = sensitivity[0]
        lines.append(f"- What most changes the best share: {top['uncertainty']} "
                     f"({top['best_shares']}; keeping the overall best costs up to "
                     f"{100 * top['regret']:.1f} points there)."
                     + ("" if len(sensitivity) < 2 else
                        f" Next: {', '.join(row['uncertainty'] for row in sensitivity[1:3])}."))
    for label, optimum in optima.items():
        if label == "none":
            lines.append(f"- Without a shock the good shares are {percent(optimum['near_low'])}"
                         f" to {percent(optimum['near_high'])}.")
    return "\n".join(lines)


def posterior_comparison(workers: int | None) -> str:
    """The default stress test at :data:`REPLICATES` replicates from seeds alone and with
    the shipped posterior: the best share's 90% interval of each, in words."""
    from importlib import resources

    from ci_sim.studies.stress import load_experiment, run_stress_test

    posterior = Path(str(resources.files("ci_sim.builtin").joinpath(
        "calibration", "posterior.parquet")))
    optimum, best = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for label, drawn in (("seeds", None), ("posterior", posterior)):
            folder = Path(scratch) / label
            run_stress_test(load_experiment(None, replicates=REPLICATES), folder,
                            workers=workers, posterior=drawn)
            record = json.loads((folder / "stress.json").read_text())
            optima = record["optima"]
            optimum[label] = optima.get("all situations (equal weight)") \
                or next(iter(optima.values()))
            best[label] = max(record["robustness"], key=lambda row: row["expected_outcome"])
    seeds, drawn = optimum["seeds"], optimum["posterior"]
    widths = [optimum["high"] - optimum["low"] for optimum in (drawn, seeds)]
    ratio = (f"a range {widths[0] / widths[1]:.2f} times as wide" if widths[1] > 0 else
             f"{100 * widths[0]:.0f} points wide against a single share")
    return (f"- With the shipped calibration's posterior (`ci-sim stress-test --replicates "
            f"{REPLICATES} --posterior .../calibration/posterior.parquet`), each replicate "
            f"also draws the sixteen fitted parameters: the best share is about "
            f"{percent(drawn['share'])} and may be anywhere from {percent(drawn['low'])} to "
            f"{percent(drawn['high'])}, against {percent(seeds['share'])} and "
            f"{percent(seeds['low'])} to {percent(seeds['high'])} from the same "
            f"{REPLICATES} seeds alone ({ratio}). What the "
            f"funder gets at the best grid share: expected outcome "
            f"{best['posterior']['expected_outcome']:.3f} and worst 5% of runs "
            f"{best['posterior']['outcome_p05']:.3f} at "
            f"{percent(best['posterior']['backbone_share'])}, against "
            f"{best['seeds']['expected_outcome']:.3f} and {best['seeds']['outcome_p05']:.3f} "
            f"at {percent(best['seeds']['backbone_share'])} over seeds alone.")


def replace_section(text: str, body: str) -> str:
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{PAGE}: markers {start} ... {end} not found")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text)


def screenshot(report: Path, target: Path) -> None:
    """The report's first screen, as a program officer opens it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(report.resolve().as_uri())
            page.wait_for_load_state("load")
            page.screenshot(path=str(target))
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="source", type=Path,
                        help="a finished stress test's folder (default: run one)")
    parser.add_argument("--workers", type=int, default=None)
    arguments = parser.parse_args(argv)
    seconds = None
    with tempfile.TemporaryDirectory() as scratch:
        folder = arguments.source
        if folder is None:
            from ci_sim.studies.stress import load_experiment, run_stress_test

            folder = Path(scratch) / "stress"
            started = time.perf_counter()
            run_stress_test(load_experiment(None), folder, workers=arguments.workers)
            seconds = time.perf_counter() - started
        record = json.loads((folder / "stress.json").read_text())
        body = section(record, seconds=seconds, workers=arguments.workers)
        if arguments.source is None:
            body += "\n" + posterior_comparison(arguments.workers)
        PAGE.write_text(replace_section(PAGE.read_text(), body))
        if CHROMIUM.exists():
            SCREENSHOT.parent.mkdir(exist_ok=True)
            screenshot(folder / "report.html", SCREENSHOT)
    print(f"wrote {PAGE}" + (f" and {SCREENSHOT}" if CHROMIUM.exists() else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
