"""Regenerate ``docs/findings.md``: what the model shows, at every size, on held-out seeds.

Every figure in that page is computed here, from the built-in scenarios, on replicate seeds
derived from :data:`BASE_SEED`, which is disjoint from the seeds the calibrated parameters
were chosen on (base 20261201) and from the seeds of the stylized-fact tests. Comparisons
are paired: scenarios run on the same seeds (common random numbers), and each effect is the
mean paired difference of the year-10 population outcome with its 95% t-interval.

Sections:

- **Stylized facts** at 50, 200, 1,000 and 5,000 organizations;
- **Ablation of the backbone's six functions**: each function switched off in turn (its
  weight set to 0 and the backbone's budget share cut by that function's share, so the other
  functions keep their staff and the money saved goes to programs), with the share of the
  collective-impact-minus-coalition gap it carries;
- **Interdependence and delay**: collective impact's advantage over isolated impact as the
  problem's interdependence K and the indicators' delay grow, with strategies judged at once
  (the default) and by delayed results (``learning.judges_by_results``);
- **Indicators after four years** against Strive's 34 of 53 (Kania & Kramer 2011).

Usage::

    python docs/gen_findings.py                 # all sizes (about 15 CPU-minutes)
    python docs/gen_findings.py --sizes 50 200  # a quicker subset, for a look
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from ci_sim import __version__
from ci_sim.outputs import interval
from ci_sim.model.params import BACKBONE_FUNCTIONS
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds, run

FINDINGS = Path(__file__).resolve().parent / "findings.md"
BASE_SEED = 20270315
SIZES = (50, 200, 1000, 5000)
#: Replicates per size: large fields vary less from seed to seed and cost more per run.
REPLICATES = {50: 60, 200: 40, 1000: 40, 5000: 24}
YEAR_4 = 48

#: name -> (scenario, overrides); every case runs at every size on the same seeds.
CASES: dict[str, tuple[str, dict]] = {
    "ci": ("collective_impact", {}),
    "coalition": ("coalition_no_backbone", {}),
    "isolated": ("isolated_impact", {}),
    "ci_simple": ("collective_impact", {"problem.type": "simple"}),
    "isolated_simple": ("isolated_impact", {"problem.type": "simple"}),
    "technical_solutions": ("technical_solutions", {}),
    "evidence_only": ("evidence_only", {}),
    "silver_bullet": ("silver_bullet", {}),
    "content_only": ("content_only", {}),
    "credit_hoarded": ("credit_hoarded", {}),
    "exclusive": ("collective_impact", {"conditions.inclusive_decisions": 0.0}),
    "backbone_4": ("collective_impact", {"backbone.budget_share": 0.04}),
    "backbone_30": ("collective_impact", {"backbone.budget_share": 0.30}),
    "missing_preconditions": ("missing_preconditions", {}),
    "no_champion": ("no_champion", {}),
    "no_urgency": ("no_urgency", {}),
    "no_groups": ("collective_impact", {"conditions.working_group_size": 0}),
    "cut_fast_trust": ("backbone_cut_year3", {"trust.build_rate": 0.04}),
    "cut_slow_trust": ("backbone_cut_year3", {"trust.build_rate": 0.01}),
}

#: Rows of the stylized-facts table: label, first case, second case, metric.
FACTS = [
    ("Collective impact - coalition (complex problem)", "ci", "coalition", "outcome"),
    ("Coalition - isolated impact (complex problem)", "coalition", "isolated", "outcome"),
    ("Collective - isolated impact, complex problem", "ci", "isolated", "outcome"),
    ("Collective - isolated impact, simple problem", "ci_simple", "isolated_simple", "outcome"),
    ("Mindset: adaptive, not technical solutions", "ci", "technical_solutions", "outcome"),
    ("Mindset: emergent learning, not evidence only", "ci", "evidence_only", "outcome"),
    ("Mindset: silver buckshot, not a silver bullet", "ci", "silver_bullet", "outcome"),
    ("Mindset: context expertise, not content only", "ci", "content_only", "outcome"),
    ("Mindset: shared credit, not credit hoarded", "ci", "credit_hoarded", "outcome"),
    ("Shared credit: mean trust", "ci", "credit_hoarded", "mean_trust"),
    ("Inclusive decisions (0.8 vs 0)", "ci", "exclusive", "outcome"),
    ("Backbone 8% of the pool - 4%", "ci", "backbone_4", "outcome"),
    ("Backbone 8% of the pool - 30%", "ci", "backbone_30", "outcome"),
    ("Working groups of up to 8 - none", "ci", "no_groups", "outcome"),
    ("Champion - no champion: participation", "ci", "no_champion", "participation"),
    ("Urgency - no urgency: participation", "ci", "no_urgency", "participation"),
    ("Backbone cut in year 3, trust built fast - slowly: alignment", "cut_fast_trust",
     "cut_slow_trust", "agenda_alignment"),
]


def trajectory(task: tuple[str, dict, int, int]) -> dict[str, np.ndarray]:
    name, overrides, size, seed = task
    scenario, _ = load_scenario(name, {**overrides, "organizations.count": size})
    frame = run(scenario, seed)
    return {metric: frame[metric].to_numpy() for metric in
            ("outcome", "mean_trust", "indicators_improving", "gateway", "participation",
             "agenda_alignment")}


def simulate(cases: dict[Any, tuple[str, dict]], size: int, seeds: list[int],
             pool: ProcessPoolExecutor) -> dict[str, dict[str, np.ndarray]]:
    """case -> metric -> array (seed, month)."""
    tasks = [(name, overrides, size, seed) for name, overrides in cases.values() for seed in seeds]
    results = list(pool.map(trajectory, tasks, chunksize=max(1, len(tasks) // 64)))
    out, r = {}, len(seeds)
    for i, case in enumerate(cases):
        rows = results[i * r:(i + 1) * r]
        out[case] = {metric: np.array([row[metric] for row in rows]) for metric in rows[0]}
    return out


def show(values: np.ndarray, digits: int = 3) -> str:
    """'mean ± half-width' of the 95% t-interval."""
    bounds = interval(values)
    return f"{bounds['mean']:+.{digits}f} ± {bounds['high'] - bounds['mean']:.{digits}f}"


def j_curve(runs, case: str = "ci", against: str = "isolated") -> tuple[float, float, float]:
    """Share of seeds where collective impact trails isolated impact by 0.02 or more in some
    month of years 1-2; the most negative mean gap in years 1-2; share leading at year 5."""
    gap = runs[case]["outcome"] - runs[against]["outcome"]
    early = gap[:, 1:25]
    return (float(np.mean(early.min(axis=1) <= -0.02)), float(early.mean(axis=0).min()),
            float(np.mean(gap[:, 60] > 0)))


def ablation(size: int, seeds: list[int], pool) -> list[str]:
    scenario, _ = load_scenario("collective_impact", {"organizations.count": size})
    weights = {f: getattr(scenario.backbone, f) for f in BACKBONE_FUNCTIONS}
    total, share = sum(weights.values()), scenario.backbone.budget_share
    cases = {"ci": ("collective_impact", {}), "coalition": ("coalition_no_backbone", {})}
    for function in BACKBONE_FUNCTIONS:
        cases[function] = ("collective_impact", {
            f"backbone.{function}": 0.0,
            "backbone.budget_share": share * (total - weights[function]) / total})
    runs = simulate(cases, size, seeds, pool)
    final = {case: runs[case]["outcome"][:, -1] for case in runs}
    gap = final["ci"] - final["coalition"]
    lines = [f"Collective impact - coalition at {size} organizations: {show(gap)} "
             f"({len(seeds)} seeds).", "",
             "| function switched off | loss of outcome (year 10) | share of the gap |",
             "|---|---|---|"]
    for function in BACKBONE_FUNCTIONS:
        loss = final["ci"] - final[function]
        lines.append(f"| {function} | {show(loss)} | {loss.mean() / gap.mean():.0%} |")
    return lines


def surface(interdependence, delays, size: int, seeds: list[int], pool,
            overrides: dict | None = None) -> list[str]:
    """Collective minus isolated impact at year 10 over interdependence (rows) and delay
    (columns), everything else as in the complex problem (with ``overrides``)."""
    cases = {}
    for k in interdependence:
        for delay in delays:
            levels = {**(overrides or {}), "problem.interdependence": k,
                      "problem.delay_months": delay}
            cases[("ci", k, delay)] = ("collective_impact", levels)
            cases[("iso", k, delay)] = ("isolated_impact", levels)
    runs = simulate(cases, size, seeds, pool)
    lines = ["| K \\ `problem.delay_months` | " + " | ".join(f"{d:g}" for d in delays) + " |",
             "|---" * (len(delays) + 1) + "|"]
    for k in interdependence:
        gaps = [runs[("ci", k, d)]["outcome"][:, -1] - runs[("iso", k, d)]["outcome"][:, -1]
                for d in delays]
        lines.append(f"| {k} | " + " | ".join(show(gap) for gap in gaps) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    started, cpu = time.time(), time.process_time()
    out = ["# What the model shows", "",
           f"Generated by `python docs/gen_findings.py` (ci-sim {__version__}); do not edit by "
           f"hand. Seeds: `replicate_seeds({BASE_SEED}, R)`, disjoint from the calibration "
           f"seeds (base 20261201). Effects are mean paired differences of the year-10 outcome "
           f"with 95% t-intervals; a fact the model does not show is reported as measured.", ""]
    facts: dict[int, dict[str, str]] = {}
    extra: dict[int, dict[str, str]] = {}
    with ProcessPoolExecutor(args.workers) as pool:
        for size in args.sizes:
            seeds = replicate_seeds(BASE_SEED, REPLICATES.get(size, 24))
            t0 = time.time()
            runs = simulate(CASES, size, seeds, pool)
            print(f"{size} organizations: {len(seeds)} seeds, {time.time() - t0:.0f} s", flush=True)
            facts[size] = {label: show(runs[a][metric][:, -1] - runs[b][metric][:, -1])
                           for label, a, b, metric in FACTS}
            trailing, dip, leading = j_curve(runs)
            improving = {case: runs[case]["indicators_improving"][:, YEAR_4]
                         for case in ("ci", "coalition", "isolated", "missing_preconditions")}
            extra[size] = {
                "seeds": str(len(seeds)),
                "final outcome, collective impact": show(runs["ci"]["outcome"][:, -1]),
                "final outcome, isolated impact": show(runs["isolated"]["outcome"][:, -1]),
                "J-curve: seeds trailing by >= 0.02 in years 1-2": f"{trailing:.0%}",
                "J-curve: deepest mean gap in years 1-2": f"{dip:+.3f}",
                "J-curve: seeds leading at year 5": f"{leading:.0%}",
                **{f"indicators improving at year 4, {case}": show(values, 2)
                   for case, values in improving.items()},
                "gateway reached, missing preconditions (max over seeds)":
                    f"{runs['missing_preconditions']['gateway'][:, -1].max():.0f}",
                "gateway reached, collective impact (median)":
                    f"{np.median(runs['ci']['gateway'][:, -1]):.0f}",
                "participation at year 10, collective impact":
                    show(runs["ci"]["participation"][:, -1], 2),
            }
        sizes = list(facts)
        header = "| effect (year 10) | " + " | ".join(f"{n:,} orgs" for n in sizes) + " |"
        rule = "|---" * (len(sizes) + 1) + "|"
        out += ["## Stylized facts", "", header, rule]
        out += [f"| {label} | " + " | ".join(facts[n][label] for n in sizes) + " |"
                for label, *_ in FACTS]
        out += ["", "## Trajectories and indicators", "", header.replace("effect (year 10)",
                                                                            "measure"), rule]
        out += [f"| {label} | " + " | ".join(extra[n][label] for n in sizes) + " |"
                for label in extra[sizes[0]]]
        out += ["", "Strive reported 34 of 53 indicators (64%) improving after four years "
                "(Kania & Kramer 2011).", ""]
        small = sizes[0]
        seeds = replicate_seeds(BASE_SEED, REPLICATES.get(small, 24))
        out += ["## Ablation: what each backbone function carries", ""]
        for size in sorted({small, 200} & set(sizes)) or [small]:
            out += ablation(size, replicate_seeds(BASE_SEED, REPLICATES.get(size, 24)), pool)
            out += [""]
        out += ["## Interdependence and delay", "",
                f"Complex problem, {small} organizations, {len(seeds)} seeds.", ""]
        out += ["Collective minus isolated impact at year 10, by interdependence K "
                "(`problem.interdependence`, rows) and response delay (columns); the complex "
                "problem's defaults are K = 5 and 12 months.", ""]
        grid = (0, 1, 2, 3, 5, 8), (1.0, 6.0, 12.0, 24.0)
        out += surface(*grid, small, seeds, pool) + [""]
        out += ["With `learning.judges_by_results = true`: organizations, their peers and the "
                "agenda judge strategies by results that show through the delay, and a "
                "variation is run for the delay before it is kept or dropped (ODD 7.6).", ""]
        out += surface(*grid, small, seeds, pool, {"learning.judges_by_results": True}) + [""]
    out += [f"Computed in {time.time() - started:.0f} s wall ({args.workers} workers).", ""]
    FINDINGS.write_text("\n".join(out))
    print(f"wrote {FINDINGS} in {time.time() - started:.0f} s (main process CPU "
          f"{time.process_time() - cpu:.0f} s)")


if __name__ == "__main__":
    main()
