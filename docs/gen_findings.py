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
- **When choices interact across organizations**: the same advantage by K when part of
  each choice's dependencies read the field's prevailing practice (Rivkin & Siggelkow 2003);
- **Interdependence over time**: the same advantage by K at years 5, 10, 20 and 30, at every
  size, with the paired difference between the most and the least interdependent problem;
- **Delay over time**: the same by the response delay, judged at once and by results, at
  50, 200 and 1,000 organizations;
- **Indicators after four years** against Strive's 34 of 53 (Kania & Kramer 2011);
- **The best backbone share** at every size, with the shares that may be the best, and how
  often those hold the best share of other seeds;
- **Across the posterior**: the stylized facts at 50, 200 and 1,000 organizations with each
  replicate's parameters drawn from the shipped calibration's posterior.

It also writes the README's account of what emerges and what does not (between the
``findings`` markers), each pattern judged from the same runs against what is asked of it.

Usage::

    python docs/gen_findings.py                 # all sizes (about 32 CPU-minutes)
    python docs/gen_findings.py --sizes 50 200  # a quicker subset, for a look
"""

from __future__ import annotations

import argparse
import os
import time
from functools import cache
from importlib import resources
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from ci_sim import __version__
from ci_sim.outputs import interval
from ci_sim.model import STEPS_PER_YEAR
from ci_sim.model.metrics import GATEWAYS
from ci_sim.model.params import BACKBONE_FUNCTIONS
from ci_sim.model.scenarios import load_scenario
from ci_sim.simulate import replicate_seeds, run
from ci_sim.studies.plotting import PALETTE, draw_band, finish, panels, save_png
from ci_sim.studies.posterior import load_posterior, scenario_names
from ci_sim.studies.stats import bootstrap_weights, first_year_reaching, may_be_best, \
    percentile_interval, reached
from ci_sim.studies.stress.optimum import LEVEL, best_share, find_optimum

FINDINGS = Path(__file__).resolve().parent / "findings.md"
BASE_SEED = 20270315
SIZES = (50, 200, 1000, 5000)
#: Replicates per size: 100 settle effects of 0.01-0.03 (intervals of about +/-0.005-0.01);
#: 5,000 organizations vary less from seed to seed and cost 25 times more per run.
REPLICATES = {50: 100, 200: 100, 1000: 100, 5000: 24}
YEAR_4 = 48
#: The year whose indicators the later-lead row reads (years 1-3 are the set-up's).
LATER_YEAR = 6
#: Interdependence levels and years of the advantage-over-time tables.
INTERDEPENDENCE = (0, 1, 2, 3, 5, 8)
#: Shares of each choice's dependencies that lie across organizations
#: (``problem.across_organizations``), and the sizes that section runs at.
ACROSS = (0.0, 0.5, 1.0)
ACROSS_SIZES = (50, 200)
YEARS = (5, 10, 20, 30)
#: Response delays (months) of the delay-over-time tables, and the sizes they are run at
#: (5,000 organizations for 30 years at every delay would double the page's cost).
DELAYS = (1.0, 6.0, 12.0, 24.0)
DELAY_SIZES = (50, 200, 1000)
README = FINDINGS.parent.parent / "README.md"
#: The shipped calibration's posterior (docs/calibration.md), for the facts across it.
POSTERIOR = Path(str(resources.files("ci_sim.builtin").joinpath("calibration",
                                                                "posterior.parquet")))
#: Backbone shares of the pool tried for the best share at each size (as ``ci-sim
#: stress-test``'s default grid).
SHARES = tuple(round(0.02 * i, 2) for i in range(16))
#: Other seed bases on which the best share at the smallest size is found again: how far it
#: moves with the seeds, and how often each set's shares that may be the best hold the best
#: share of all the other sets pooled.
OTHER_SEED_SETS = tuple(range(1, 20))
#: Sizes at which the facts are also measured across the posterior.
POSTERIOR_SIZES = (50, 200, 1000)
#: Cases whose years to Proof Point, the last gateway, are reported.
PROOF_CASES = {"ci": "collective impact", "no_urgency": "no urgency",
               "no_champion": "no champion"}
#: The figures of the over-time sections.
BY_INTERDEPENDENCE = FINDINGS.parent / "img" / "findings" / "advantage_by_interdependence.png"
BY_DELAY = FINDINGS.parent / "img" / "findings" / "advantage_by_delay.png"
#: The backbone's six functions as the README names them (Turner et al. 2012).
FUNCTION_NAMES = {"vision": "guiding vision and strategy",
                  "activities": "supporting aligned activities",
                  "measurement": "establishing shared measurement",
                  "public_will": "building public will", "policy": "advancing policy",
                  "resources": "mobilizing funding"}
SUMMARY_START, SUMMARY_END = "<!-- findings:start -->", "<!-- findings:end -->"

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
    # Credit hoarded, but claiming credit breaks no trust: only the funding channel is left.
    "hoarded_no_breach": ("credit_hoarded", {"trust.violation_rate": 0.0}),
    "exclusive": ("collective_impact", {"conditions.inclusive_decisions": 0.0}),
    "backbone_4": ("collective_impact", {"backbone.budget_share": 0.04}),
    "backbone_30": ("collective_impact", {"backbone.budget_share": 0.30}),
    "missing_preconditions": ("missing_preconditions", {}),
    "no_champion": ("no_champion", {}),
    "no_urgency": ("no_urgency", {}),
    "no_groups": ("collective_impact", {"conditions.working_group_size": 0}),
    "cut_fast_trust": ("backbone_cut_year3", {"trust.build_rate": 0.04}),
    "cut_slow_trust": ("backbone_cut_year3", {"trust.build_rate": 0.01}),
    # Trust held where it starts for the whole run (no building, no violations).
    "trust_high": ("collective_impact", {"trust.initial": 0.9, "trust.build_rate": 0.0,
                                         "trust.violation_rate": 0.0}),
    "trust_low": ("collective_impact", {"trust.initial": 0.1, "trust.build_rate": 0.0,
                                        "trust.violation_rate": 0.0}),
    "trust_middle": ("collective_impact", {"trust.initial": 0.5, "trust.build_rate": 0.0,
                                           "trust.violation_rate": 0.0}),
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
    ("Credit hoarded, through the trust it breaks", "hoarded_no_breach", "credit_hoarded",
     "outcome"),
    ("Credit hoarded, through the credit claimed for funding", "ci", "hoarded_no_breach",
     "outcome"),
    ("Inclusive decisions (0.8 vs 0)", "ci", "exclusive", "outcome"),
    ("Backbone 8% of the pool - 4%", "ci", "backbone_4", "outcome"),
    ("Backbone 8% of the pool - 30%", "ci", "backbone_30", "outcome"),
    ("Working groups of up to 8 - none", "ci", "no_groups", "outcome"),
    ("Champion - no champion: participation", "ci", "no_champion", "participation"),
    ("Urgency - no urgency: participation", "ci", "no_urgency", "participation"),
    ("Backbone cut in year 3, trust built fast - slowly: alignment", "cut_fast_trust",
     "cut_slow_trust", "agenda_alignment"),
    ("Trust held at 0.9 - at 0.1 all run", "trust_high", "trust_low", "outcome"),
    ("Trust held at 0.9 - at 0.5 all run", "trust_high", "trust_middle", "outcome"),
]


@cache
def shipped_posterior():
    """The shipped calibration's posterior, read once per process."""
    return load_posterior(POSTERIOR)


def trajectory(task: tuple[str, dict, int, int, int | None]) -> dict[str, np.ndarray]:
    """One run's metrics; with a replicate number, on the parameters that replicate draws
    from the shipped calibration's posterior (what the scenario sets keeps its value), as
    ``--posterior`` does."""
    name, overrides, size, seed, replicate = task
    overrides = {**overrides, "organizations.count": size}
    scenario, _ = load_scenario(name, overrides)
    if replicate is not None:
        draws = shipped_posterior().bind(BASE_SEED, scenario_names(name, overrides))
        scenario = draws.apply(scenario, replicate)
    frame = run(scenario, seed)
    return {metric: frame[metric].to_numpy() for metric in
            ("outcome", "mean_trust", "indicators_improving", "gateway", "participation",
             "agenda_alignment", "strategy_score")}


def simulate(cases: dict[Any, tuple[str, dict]], size: int, seeds: list[int],
             pool: ProcessPoolExecutor, posterior: bool = False
             ) -> dict[str, dict[str, np.ndarray]]:
    """case -> metric -> array (seed, month); with ``posterior``, seed r of every case runs
    on the same parameters drawn from the calibration's posterior."""
    tasks = [(name, overrides, size, seed, r if posterior else None)
             for name, overrides in cases.values() for r, seed in enumerate(seeds)]
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


def ablation(size: int, seeds: list[int], pool) -> tuple[list[str], dict[str, float]]:
    """The ablation table at ``size`` and each function's share of the gap it carries."""
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
    shares = {}
    for function in BACKBONE_FUNCTIONS:
        loss = final["ci"] - final[function]
        shares[function] = loss.mean() / gap.mean()
        lines.append(f"| {function} | {show(loss)} | {shares[function]:.0%} |")
    return lines, shares


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
    gaps = {(k, d): runs[("ci", k, d)]["outcome"][:, -1] - runs[("iso", k, d)]["outcome"][:, -1]
            for k in interdependence for d in delays}
    for k in interdependence:
        lines.append(f"| {k} | " + " | ".join(show(gaps[(k, d)]) for d in delays) + " |")
    return lines


def search_by_interdependence(interdependence, size: int, seeds: list[int], pool) -> list[str]:
    """Collective minus isolated impact at year 10 by interdependence K (rows), split by
    switching off, in turn, the two ways partners search together: socialization to the
    agenda's view (March's p1, ``learning.socialization_rate``) and then imitation of peers
    (Lazer & Friedman 2007, ``learning.imitation_rate``). What remains with both off
    (coordination of effort, funding, context, inclusion, the backbone's other functions) is
    what collective impact gains without searching together."""
    switched = {"ci": {}, "no_agenda": {"learning.socialization_rate": 0.0},
                "alone": {"learning.socialization_rate": 0.0, "learning.imitation_rate": 0.0}}
    cases = {}
    for k in interdependence:
        cases[("iso", k)] = ("isolated_impact", {"problem.interdependence": k})
        for case, overrides in switched.items():
            cases[(case, k)] = ("collective_impact", {**overrides, "problem.interdependence": k})
    runs = simulate(cases, size, seeds, pool)

    def final(case, k, metric="outcome"):
        return runs[(case, k)][metric][:, -1]
    lines = ["| K | collective - isolated | without searching together | added by imitating "
             "peers | added by socialization to the agenda | strategy score, collective / "
             "isolated |", "|---|---|---|---|---|---|"]
    for k in interdependence:
        scores = [float(final(case, k, "strategy_score").mean()) for case in ("ci", "iso")]
        lines.append(f"| {k} | {show(final('ci', k) - final('iso', k))} | "
                     f"{show(final('alone', k) - final('iso', k))} | "
                     f"{show(final('no_agenda', k) - final('alone', k))} | "
                     f"{show(final('ci', k) - final('no_agenda', k))} | "
                     f"{scores[0]:.2f} / {scores[1]:.2f} |")
    return lines


def across_organizations(interdependence, shares, size: int, seeds: list[int], pool
                         ) -> list[str]:
    """Collective minus isolated impact at year 10 by interdependence K (rows) and the share
    of each choice's dependencies that lie across organizations (columns,
    ``problem.across_organizations``; Rivkin & Siggelkow 2003), with the partners' strategy
    scores and, where every dependency lies across, an agenda the backbone imposes."""
    last = shares[-1]
    cases = {}
    for k in interdependence:
        for share in shares:
            levels = {"problem.interdependence": k, "problem.across_organizations": share}
            cases[("ci", k, share)] = ("collective_impact", levels)
            cases[("iso", k, share)] = ("isolated_impact", levels)
        cases[("imposed", k)] = ("backbone_imposes_agenda", {
            "problem.interdependence": k, "problem.across_organizations": last})
    runs = simulate(cases, size, seeds, pool)

    def final(case, metric="outcome"):
        return runs[case][metric][:, -1]
    lines = ["| K | " + " | ".join(f"collective - isolated, {share:g} across" for share in shares)
             + f" | strategy score, collective / isolated, {last:g} across | imposed "
             f"agenda - isolated, {last:g} across |", "|---" * (len(shares) + 3) + "|"]
    for k in interdependence:
        gaps = [show(final(("ci", k, share)) - final(("iso", k, share))) for share in shares]
        scores = [float(final((case, k, last), "strategy_score").mean()) for case in ("ci", "iso")]
        lines.append(f"| {k} | " + " | ".join(gaps) + f" | {scores[0]:.2f} / {scores[1]:.2f} | "
                     f"{show(final(('imposed', k)) - final(('iso', k, last)))} |")
    return lines


def over_time(parameter: str, symbol: str, levels, years, size: int, seeds: list[int], pool,
              overrides: dict | None = None) -> tuple[list[str], dict[Any, np.ndarray]]:
    """Collective minus isolated impact by the levels of ``parameter`` (rows, named
    ``symbol``) at the given years (columns) of one run as long as the last, everything else
    as in the complex problem (with ``overrides``); the last row is the paired difference
    between the last and the first level. Returns the table's lines and, per level, the gaps
    (seed, month)."""
    cases = {}
    for level in levels:
        changed = {**(overrides or {}), parameter: level, "years": max(years)}
        cases[("ci", level)] = ("collective_impact", changed)
        cases[("iso", level)] = ("isolated_impact", changed)
    runs = simulate(cases, size, seeds, pool)
    gap = {level: runs[("ci", level)]["outcome"] - runs[("iso", level)]["outcome"]
           for level in levels}
    months = [round(year * STEPS_PER_YEAR) for year in years]
    lines = [f"{size:,} organizations, {len(seeds)} seeds.", "",
             f"| {symbol} \\ year | " + " | ".join(f"{year:g}" for year in years) + " |",
             "|---" * (len(years) + 1) + "|"]
    for level in levels:
        lines.append(f"| {level:g} | " + " | ".join(show(gap[level][:, m]) for m in months)
                     + " |")
    first, last = levels[0], levels[-1]
    lines.append(f"| {symbol} {last:g} - {symbol} {first:g} | "
                 + " | ".join(show(gap[last][:, m] - gap[first][:, m]) for m in months) + " |")
    return lines, gap


def grows(gaps: dict[Any, np.ndarray], levels, month: int) -> bool:
    """The advantage at ``month`` is larger at the last level than at the first (interval
    excluding zero) and no step from one level to the next falls beyond its interval."""
    steps = [gaps[b][:, month] - gaps[a][:, month] for a, b in zip(levels, levels[1:])]
    return clears(gaps[levels[-1]][:, month] - gaps[levels[0]][:, month]) \
        and all(interval(step)["high"] > 0 for step in steps)


def plot_over_time(tables: dict[str, dict[Any, np.ndarray]], levels, xlabel: str,
                   path: Path, title: str, columns: int = 4) -> None:
    """One panel per table (title -> level -> gaps (seed, month)), ``columns`` to a row: the
    advantage over the levels, a line with its 95% band for each year of :data:`YEARS`."""
    figure, axes = panels(len(tables), width=4.2, height=3.4, columns=columns, sharey=True)
    for axis, (name, gaps) in zip(axes, tables.items()):
        for colour, year in zip(PALETTE, YEARS):
            month = year * STEPS_PER_YEAR
            draw_band(axis, levels, np.column_stack([gaps[level][:, month] for level in levels]),
                      label=f"year {year}", colour=colour, marker="o")
        axis.axhline(0.0, color="grey", lw=0.8)
        axis.set_title(name, fontsize=10)
        axis.set_xlabel(xlabel)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("collective - isolated impact")
    axes[0].legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_png(finish(figure, title), path)


def spread(values, fmt: str = "+.2f") -> str:
    """'a to b': the smallest and largest of ``values`` (one figure when they agree at this
    precision); a figure that rounds to zero is written without a sign."""
    def figure(value):
        text = f"{value:{fmt}}"
        return text[1:] if text[0] in "+-" and not any(c in "123456789" for c in text) else text

    low, high = figure(min(values)), figure(max(values))
    return low if low == high else f"{low} to {high}"


def clears(values: np.ndarray, at_least: float = 0.0) -> bool:
    """The mean is at least ``at_least`` and the 95% interval excludes zero."""
    return values.mean() >= at_least and interval(values)["low"] > 0


#: A pattern as measured: what was asked and found, the sizes where it holds, the sizes
#: where it was measured.
Pattern = tuple[str, tuple[int, ...], tuple[int, ...]]


def patterns(sizes, effects, j_curves, indicators, later_leads, proof_delays, horizons,
             delay_horizons) -> list[Pattern]:
    """What the brief (section 4) and the model's issue ask, each as a :data:`Pattern`.
    ``later_leads[size]``: per seed, collective minus isolated impact's share of indicators
    improving at :data:`LATER_YEAR`; ``proof_delays[size]``: per seed, years to Proof Point
    without urgency minus with it; ``effects[label][size]``: per-seed effect of a row of
    FACTS; ``horizons[size][k]``: gaps (seed, month) by interdependence over 30 years;
    ``delay_horizons[judging][size][delay]``: gaps (seed, month) by delay over 30 years."""
    def mean(label):
        return [float(effects[label][n].mean()) for n in sizes]

    def where(holds) -> tuple[int, ...]:
        return tuple(n for n in sizes if holds(n))

    def fact(label, text, at_least=0.0, fmt="+.2f"):
        return (text.format(spread(mean(label), fmt)),
                where(lambda n: clears(effects[label][n], at_least)))

    def both(first, second):
        return f"{first[0]} and {second[0]}", tuple(n for n in first[1] if n in second[1])

    complex_gap = "Collective - isolated impact, complex problem"
    simple_gap = "Collective - isolated impact, simple problem"
    ratio = [float(effects[simple_gap][n].mean() / effects[complex_gap][n].mean())
             for n in sizes]
    found = [
        (f"on complex problems collective impact with a backbone beats a coalition without "
         f"one ({spread(mean('Collective impact - coalition (complex problem)'))} on the "
         f"year-10 outcome), which beats isolated impact "
         f"({spread(mean('Coalition - isolated impact (complex problem)'))})",
         where(lambda n: all(clears(effects[label][n]) for label in
                             ("Collective impact - coalition (complex problem)",
                              "Coalition - isolated impact (complex problem)")))),
        (f"on a simple problem the advantage over isolated impact is small, at most half the "
         f"complex problem's (measured: {spread(ratio, '.0%')} of it)",
         tuple(n for n, r in zip(sizes, ratio) if r < 0.5)),
        (f"the J-curve: collective impact trails isolated impact by 0.02 or more in some "
         f"month of years 1-2 on at least 80% of seeds (measured: "
         f"{spread([j_curves[n][0] for n in sizes], '.0%')} of seeds; deepest mean gap "
         f"{spread([j_curves[n][1] for n in sizes], '+.3f')})",
         where(lambda n: j_curves[n][0] >= 0.8)),
        (f"collective impact leads isolated impact at year 5 on "
         f"{spread([j_curves[n][2] for n in sizes], '.0%')} of seeds",
         where(lambda n: j_curves[n][2] >= 0.8)),
        both(fact("Backbone 8% of the pool - 4%", "8% of the pool for the backbone beats 4% "
                  "({})", fmt="+.3f"),
             fact("Backbone 8% of the pool - 30%", "30% ({})", fmt="+.3f")),
        both(fact("Champion - no champion: participation", "without a champion fewer "
                  "organizations take part (participation lower by {})", fmt=".2f"),
             fact("Urgency - no urgency: participation", "without urgency (lower by {})",
                  fmt=".2f")),
        (f"without urgency the gateways come later: Proof Point "
         f"{spread([float(proof_delays[n].mean()) for n in sizes], '.2f')} years later on "
         f"average", where(lambda n: clears(proof_delays[n]))),
        fact("Shared credit: mean trust", "credit hoarding destroys trust (mean trust lower "
             "by {})", fmt=".2f"),
        fact("Backbone cut in year 3, trust built fast - slowly: alignment", "after a "
             "backbone cut in year 3 alignment decays less where trust was built fast "
             "(higher by {})", fmt=".2f"),
    ]
    found.append(fact("Trust held at 0.9 - at 0.1 all run", "trust matters: held at 0.9 "
                      "rather than 0.1 for the whole run (who meets, what is seen and how "
                      "well it transfers all follow trust) it raises the outcome by at least "
                      "0.02 ({})", 0.02, "+.3f"))
    for label, *_ in FACTS:
        if label.startswith("Mindset"):
            found.append(fact(label, f"the shift '{label.split(': ', 1)[1]}' raises the "
                              "outcome by at least 0.02 ({})", 0.02, "+.3f"))
    found.append(fact("Inclusive decisions (0.8 vs 0)", "inclusive decisions (0.8 against "
                      "0) raise the outcome by at least 0.02 ({})", 0.02, "+.3f"))
    found.append(fact("Working groups of up to 8 - none", "working groups raise the outcome "
                      "({})", fmt="+.3f"))
    ci = [float(indicators[n]["ci"].mean()) for n in sizes]
    lead = {n: indicators[n]["ci"] - indicators[n]["isolated"] for n in sizes}
    found.append((f"after four years {spread(ci, '.0%')} of indicators improve under "
                  f"collective impact (Strive: 34 of 53, 64%), "
                  f"{spread([100 * float(lead[n].mean()) for n in sizes], '+.0f')} "
                  f"percentage points more than under isolated impact",
                  where(lambda n: abs(indicators[n]["ci"].mean() - 34 / 53) < 0.1
                        and clears(lead[n]))))
    found.append((f"after {LATER_YEAR} years more indicators improve under collective impact "
                  f"than under isolated impact "
                  f"({spread([100 * float(later_leads[n].mean()) for n in sizes], '+.0f')} "
                  f"percentage points)", where(lambda n: clears(later_leads[n]))))
    first, last = INTERDEPENDENCE[0], INTERDEPENDENCE[-1]
    early = YEARS[0] * STEPS_PER_YEAR
    later = {n: horizons[n][last][:, early] - horizons[n][first][:, early] for n in sizes}
    found.append((f"on more interdependent problems the advantage comes later: at year "
                  f"{YEARS[0]}, K = {last} minus K = {first} is "
                  f"{spread([float(later[n].mean()) for n in sizes], '+.3f')}",
                  where(lambda n: interval(later[n])["high"] < 0)))
    for year in (10, YEARS[-1]):
        month = year * STEPS_PER_YEAR
        growth = [float((horizons[n][last][:, month] - horizons[n][first][:, month]).mean())
                  for n in sizes]
        found.append((f"at year {year} the advantage grows with interdependence, no step "
                      f"from K = {first} to {last} falling (K = {last} minus K = {first}: "
                      f"{spread(growth, '+.3f')})",
                      where(lambda n: grows(horizons[n], INTERDEPENDENCE, month))))
    slow, fast = DELAYS[-1], DELAYS[0]
    for year in (10, YEARS[-1]):
        month = year * STEPS_PER_YEAR
        for judging, by_size in delay_horizons.items():
            growth = [float((gaps[slow][:, month] - gaps[fast][:, month]).mean())
                      for gaps in by_size.values()]
            found.append((f"at year {year}, with strategies judged {judging}, the advantage "
                          f"grows with the response delay, no step from {fast:g} to {slow:g} "
                          f"months falling ({slow:g} minus {fast:g} months: "
                          f"{spread(growth, '+.3f')})",
                          tuple(n for n, gaps in by_size.items() if grows(gaps, DELAYS, month)),
                          tuple(by_size)))
    return [(text, held, measured[0] if measured else tuple(sizes))
            for text, held, *measured in found]


def best_backbone_share(size: int, seeds: list[int], pool) -> tuple[str, Any, np.ndarray]:
    """The share of the pool for the backbone that maximizes the mean year-10 outcome at
    ``size``, with the shares that may be the best (as the stress test finds them, no
    shock): the table row, the optimum and the outcomes (share x seed)."""
    cases = {share: ("collective_impact", {"backbone.budget_share": share}) for share in SHARES}
    runs = simulate(cases, size, seeds, pool)
    outcomes = np.array([runs[share]["outcome"][:, -1] for share in SHARES])
    start = float(np.mean([runs[share]["outcome"][:, 0].mean() for share in SHARES]))
    optimum = find_optimum(SHARES, outcomes, start=start, seed=BASE_SEED)
    return (f"| {size:,} | {len(seeds)} | {optimum.share:.1%} | {optimum.low:.0%} to "
            f"{optimum.high:.0%} | {optimum.near_low:.0%} to {optimum.near_high:.0%} | "
            f"{optimum.outcome:.3f} |", optimum, outcomes)


def coverage(sets: list[np.ndarray]) -> tuple[int, int]:
    """Of independent sets of runs (each share x seed), how many sets' shares that may be
    the best hold the best grid share of all the other sets pooled, and how many sets'
    bootstrap percentile intervals of the best share (what the stress test reported before)
    hold the best share of the others, refined by the parabola."""
    shares = np.asarray(SHARES)
    held = bootstrapped = 0
    for k, outcomes in enumerate(sets):
        others = np.hstack([other for j, other in enumerate(sets) if j != k]).mean(axis=1)
        held += bool(may_be_best(outcomes, LEVEL)[np.argmax(others)])
        curves = bootstrap_weights(outcomes.shape[1], 2000, BASE_SEED) @ outcomes.T
        low, high = percentile_interval(best_share(shares, curves), LEVEL)
        bootstrapped += bool(low <= best_share(shares, others)[0] <= high)
    return held, bootstrapped


def optimum_overlaps(optima: dict[int, Any]) -> Pattern:
    """The best backbone share's interval at each size overlaps the smallest size's."""
    sizes = list(optima)
    first = optima[sizes[0]]
    shares = ", ".join(f"{optima[n].share:.0%} (may be {optima[n].low:.0%} to "
                       f"{optima[n].high:.0%})" for n in sizes)
    return (f"the best backbone share does not depend on the field's size: the shares that "
            f"may be the best at every size overlap those at {sizes[0]:,} organizations "
            f"(best shares {shares}; each a set holding the best share tried with "
            f"{LEVEL:.0%} confidence)",
            tuple(n for n in sizes
                  if optima[n].low <= first.high and optima[n].high >= first.low),
            tuple(sizes))


def ordering_across_posterior(facts: dict[int, dict[str, np.ndarray]]) -> Pattern:
    """The ordering on complex problems with parameters drawn from the posterior."""
    top, low = ("Collective impact - coalition (complex problem)",
                "Coalition - isolated impact (complex problem)")
    return (f"with parameters drawn from the calibration's posterior instead of its defaults, "
            f"collective impact still beats a coalition "
            f"({spread([float(f[top].mean()) for f in facts.values()])}), which beats isolated "
            f"impact ({spread([float(f[low].mean()) for f in facts.values()])})",
            tuple(n for n, f in facts.items() if clears(f[top]) and clears(f[low])),
            tuple(facts))


def carriers(carried: dict[int, dict[str, float]]) -> Pattern:
    """Which backbone functions carry most of the collective-impact-minus-coalition gap in
    the ablation (ranked by their mean share over the sizes ablated); holds when no single
    function carries it alone (every share below 90%)."""
    mean = {f: float(np.mean([shares[f] for shares in carried.values()]))
            for f in BACKBONE_FUNCTIONS}
    ranked = sorted(mean, key=mean.get, reverse=True)
    names = " and ".join(f"{FUNCTION_NAMES[f]} ({spread([s[f] for s in carried.values()], '.0%')})"
                         for f in ranked[:2])
    return (f"the backbone's value comes through what partners do, no one function carrying "
            f"it alone: switched off in turn, {names} carry most of the gap over a coalition "
            f"(the ablation in docs/findings.md)",
            tuple(n for n, shares in carried.items() if max(shares.values()) < 0.9),
            tuple(carried))


def by_construction(sizes, gateways, joined) -> list[str]:
    """What holds because of how a rule is written, not as a finding: with no champion and no
    urgency every grantee's motive to join (ODD 7.4) is its peers' pull alone, which is 0
    while no one takes part, so no one ever does."""
    return [f"with no champion, no urgency and one year of committed funding "
            f"(`missing_preconditions`) no organization ever comes to the table (highest "
            f"participation {max(joined[n] for n in sizes):.2f}) and the initiative never "
            f"passes its first gateway (highest gateway reached: "
            f"{max(gateways[n] for n in sizes):.0f}): without a champion or urgency a "
            f"grantee's motive (ODD 7.4) is its peers' pull alone, which is 0 while no one "
            f"takes part"]


def summary(sizes, found: list[Pattern], constructed: list[str]) -> list[str]:
    """The README's account: what emerges (at every size measured) and what does not, from
    :func:`patterns`; a pattern that holds at some sizes says at which; what holds by
    construction (:func:`by_construction`) is listed apart."""
    def organizations(group):
        names = [f"{n:,}" for n in group]
        return (", ".join(names[:-1]) + " and " if len(names) > 1 else "") + names[-1] \
            + " organizations"

    held = [text for text, where, measured in found if where == measured]
    missed = [text + (f", holding at {organizations(where)}, not at "
                      f"{organizations([n for n in measured if n not in where])}"
                      if where else "")
              for text, where, measured in found if where != measured]
    return ["Measured at " + organizations(sizes) + " on held-out seeds; ranges run from the "
            "smallest to the largest mean over those sizes, and a pattern emerges when its 95% "
            "interval clears what is asked at every size.", "",
            "**Emerges**:", "", *(f"- {text[0].upper()}{text[1:]}." for text in held), "",
            "**Does not emerge**, reported rather than forced:", "",
            *(f"- {text[0].upper()}{text[1:]}." for text in missed), "",
            "**Holds by construction**, not counted as a finding:", "",
            *(f"- {text[0].upper()}{text[1:]}." for text in constructed)]


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
    effects: dict[str, dict[int, np.ndarray]] = {label: {} for label, *_ in FACTS}
    j_curves, indicators, later_leads, gateways, joined, proof_delays = {}, {}, {}, {}, {}, {}
    with ProcessPoolExecutor(args.workers) as pool:
        for size in args.sizes:
            seeds = replicate_seeds(BASE_SEED, REPLICATES.get(size, 24))
            t0 = time.time()
            runs = simulate(CASES, size, seeds, pool)
            print(f"{size} organizations: {len(seeds)} seeds, {time.time() - t0:.0f} s", flush=True)
            for label, a, b, metric in FACTS:
                effects[label][size] = runs[a][metric][:, -1] - runs[b][metric][:, -1]
            facts[size] = {label: show(effects[label][size]) for label, *_ in FACTS}
            trailing, dip, leading = j_curves[size] = j_curve(runs)
            improving = {case: runs[case]["indicators_improving"][:, YEAR_4]
                         for case in ("ci", "coalition", "isolated", "missing_preconditions")}
            indicators[size] = improving
            later = LATER_YEAR * STEPS_PER_YEAR
            later_leads[size] = runs["ci"]["indicators_improving"][:, later] \
                - runs["isolated"]["indicators_improving"][:, later]
            gateways[size] = runs["missing_preconditions"]["gateway"][:, -1].max()
            joined[size] = runs["missing_preconditions"]["participation"].max()
            to_proof = {case: first_year_reaching(runs[case]["gateway"], len(GATEWAYS) - 1)
                        for case in PROOF_CASES}
            proof_delays[size] = to_proof["no_urgency"] - to_proof["ci"]
            horizon = (runs["ci"]["gateway"].shape[1] - 1) / STEPS_PER_YEAR
            extra[size] = {
                "seeds": str(len(seeds)),
                "final outcome, collective impact": show(runs["ci"]["outcome"][:, -1]),
                "final outcome, isolated impact": show(runs["isolated"]["outcome"][:, -1]),
                "J-curve: seeds trailing by >= 0.02 in years 1-2": f"{trailing:.0%}",
                "J-curve: deepest mean gap in years 1-2": f"{dip:+.3f}",
                "J-curve: seeds leading at year 5": f"{leading:.0%}",
                **{f"indicators improving at year 4, {case}": show(values, 2)
                   for case, values in improving.items()},
                "indicators improving at year 4, collective - isolated impact":
                    show(improving["ci"] - improving["isolated"], 2),
                f"indicators improving at year {LATER_YEAR}, collective - isolated impact":
                    show(later_leads[size], 2),
                "gateway reached, missing preconditions (max over seeds)":
                    f"{gateways[size]:.0f}",
                "participation, missing preconditions (max over seeds and months)":
                    f"{joined[size]:.2f}",
                **{f"Proof Point reached by year 10, {PROOF_CASES[case]}":
                   f"{np.mean(reached(years, horizon)):.0%}"
                   for case, years in to_proof.items()},
                "years to Proof Point, no urgency - collective impact (unreached: horizon "
                "+ 1 month)": show(proof_delays[size], 2),
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
        out += ["", "The two 'credit hoarded' rows split the shared-credit effect (they add up "
                "to it): hoarding with and without the breaches of trust it causes "
                "(`trust.violation_rate` = 0), and collective impact against hoarding without "
                "breaches, where only the credit claimed for funding is left. Trust held at "
                "0.9 against 0.5 shows how much of trust's effect lies above the middle."]
        out += ["", "## Trajectories and indicators", "", header.replace("effect (year 10)",
                                                                            "measure"), rule]
        out += [f"| {label} | " + " | ".join(extra[n][label] for n in sizes) + " |"
                for label in extra[sizes[0]]]
        out += ["", "Strive reported 34 of 53 indicators (64%) improving after four years "
                "(Kania & Kramer 2011).", ""]
        across = [n for n in sizes if n in POSTERIOR_SIZES]
        posterior_facts: dict[int, dict[str, np.ndarray]] = {}
        for size in across:
            runs = simulate(CASES, size, replicate_seeds(BASE_SEED, REPLICATES.get(size, 24)),
                            pool, posterior=True)
            posterior_facts[size] = {label: runs[a][metric][:, -1] - runs[b][metric][:, -1]
                                     for label, a, b, metric in FACTS}
        if across:
            out += ["## Stylized facts across the calibration's posterior", "",
                    "The same effects when replicate r of every case also runs on the r-th "
                    "parameter set drawn from the shipped calibration's posterior "
                    "(`--posterior`; docs/calibration.md), so the intervals cover the "
                    "parameters' uncertainty as well as the seeds'. What a scenario sets "
                    "keeps its value.", "",
                    "| effect (year 10) | " + " | ".join(f"{n:,} orgs" for n in across) + " |",
                    "|---" * (len(across) + 1) + "|"]
            out += [f"| {label} | " + " | ".join(show(posterior_facts[n][label])
                                                  for n in across) + " |"
                    for label, *_ in FACTS]
            out += [""]
        small = sizes[0]
        seeds = replicate_seeds(BASE_SEED, REPLICATES.get(small, 24))
        out += ["## The best backbone share at every size", "",
                "The share of the funding pool for the backbone that maximizes the mean "
                "year-10 outcome of collective impact, over shares 0% to 30% in steps of 2% "
                "(refined between grid points by a parabola), with the shares that may be the "
                "best: those no other share beats, in paired differences over the seeds, by "
                "more than chance allows, a set holding the best share tried with 90% "
                "confidence (Nelson, Swann, Goldsman & Song 2001); no shock. `ci-sim "
                "stress-test` finds both the same way.", "",
                "| organizations | seeds | best share | may be the best | shares within 0.01 "
                "of the best | outcome at the best grid share |", "|---|---|---|---|---|---|"]
        optima, outcomes = {}, {}
        for size in sizes:
            row, optima[size], outcomes[size] = best_backbone_share(
                size, replicate_seeds(BASE_SEED, REPLICATES.get(size, 24)), pool)
            out.append(row)
        replicates = REPLICATES.get(small, 24)
        others = {base: best_backbone_share(small, replicate_seeds(base, replicates), pool)
                  for base in OTHER_SEED_SETS}
        sets = [outcomes[small]] + [runs for *_, runs in others.values()]
        held, bootstrapped = coverage(sets)
        pooled = find_optimum(SHARES, np.hstack(sets), start=0.0, seed=BASE_SEED)
        out += ["", f"How far the best share moves with the seeds, and whether the shares that "
                f"may be the best say so: the same at {small:,} organizations on "
                f"{len(others)} other sets of {replicates} seeds "
                f"(`replicate_seeds(BASE, {replicates})`). For each of these {len(sets)} sets "
                f"(the first table's included), the best grid share of the other "
                f"{len(sets) - 1} sets pooled ({(len(sets) - 1) * replicates:,} seeds) is "
                f"among its shares that may be the best in **{held} of {len(sets)}** sets "
                f"({LEVEL:.0%} asked). A {LEVEL:.0%} bootstrap percentile interval of the best "
                f"share (2,000 resamples of whole seeds; what the stress test reported "
                f"before) holds the others' best share in {bootstrapped} of {len(sets)}: near "
                f"a flat top the best share jumps between nearly tied shares. All "
                f"{len(sets)} sets pooled ({len(sets) * replicates:,} seeds): the best share "
                f"is {pooled.share:.1%} and may be {pooled.low:.0%} to {pooled.high:.0%}.", "",
                "| seeds (base) | best share | may be the best | shares within 0.01 of the "
                "best | outcome at the best grid share |", "|---|---|---|---|---|"]
        out += [row.replace(f"| {small:,} | {replicates} |", f"| {base} |", 1)
                for base, (row, *_) in others.items()]
        out += [""]
        out += ["## Ablation: what each backbone function carries", ""]
        carried = {}
        for size in sorted({small, 200} & set(sizes)) or [small]:
            lines, carried[size] = ablation(size, replicate_seeds(BASE_SEED,
                                                                  REPLICATES.get(size, 24)), pool)
            out += lines + [""]
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
        out += ["## Where the advantage comes from, by interdependence", "",
                f"Complex problem, {small} organizations, {len(seeds)} seeds, year 10. The "
                "advantage over isolated impact, then its parts: what collective impact gains "
                "with both ways of searching together switched off (no socialization to the "
                "agenda's view, `learning.socialization_rate` = 0, and no imitation of peers, "
                "`learning.imitation_rate` = 0: coordination of effort, funding, context, "
                "inclusion and the backbone's other functions); what imitating peers adds to "
                "that; what socialization to the agenda adds on top. The strategy score is the "
                "mean (payoff / best payoff) ** `problem.score_exponent` of the partners' "
                "strategies: how good a design they have found on the landscape.", ""]
        out += search_by_interdependence((0, 1, 2, 3, 5, 8), small, seeds, pool) + [""]
        out += ["## When choices interact across organizations", "",
                "The same advantage when part of each choice's interdependence lies in the "
                "other organizations' programs (`problem.across_organizations`, the share of "
                "each choice's K dependencies that read the field's prevailing practice, what "
                "most grantees hold, instead of the organization's own choice; Rivkin & "
                "Siggelkow 2003; ODD 7.1). No organization changes the prevailing practice "
                "alone. This is the structure that would make coordination worth more the "
                "more interdependent the problem; the model's default is 0 (every dependency "
                "within the organization's own program). Complex problem, year 10, "
                f"{len(seeds)} seeds; the last two columns are at share {ACROSS[-1]:g}, and the "
                "imposed agenda is the backbone's own view pressed on the partners "
                "(`backbone_imposes_agenda`).", ""]
        for size in [n for n in sizes if n in ACROSS_SIZES] or [small]:
            out += [f"{size:,} organizations:", ""]
            out += across_organizations(INTERDEPENDENCE, ACROSS, size, replicate_seeds(
                BASE_SEED, REPLICATES.get(size, 24)), pool) + [""]
        out += ["## Interdependence over time", "",
                "Collective minus isolated impact on the complex problem by interdependence K "
                "(rows) at years 5, 10, 20 and 30 of 30-year runs (columns; the default "
                "horizon is 10 years); the last row is the paired difference between K = 8 "
                "and K = 0.", ""]
        horizons = {}
        for size in sizes:
            lines, horizons[size] = over_time(
                "problem.interdependence", "K", INTERDEPENDENCE, YEARS, size,
                replicate_seeds(BASE_SEED, REPLICATES.get(size, 24)), pool)
            out += lines + [""]
        plot_over_time({f"{size:,} organizations": horizons[size] for size in sizes},
                       INTERDEPENDENCE, "interdependence K", BY_INTERDEPENDENCE,
                       "Collective minus isolated impact by interdependence, complex problem "
                       "(mean and 95% interval)")
        out += [f"![The advantage by K at years 5 to 30](img/findings/{BY_INTERDEPENDENCE.name})",
                ""]
        out += ["## Delay over time", "",
                "Collective minus isolated impact on the complex problem by the response delay "
                "(`problem.delay_months`, rows) at years 5, 10, 20 and 30 of 30-year runs, "
                "with strategies judged at once (the default) and by delayed results "
                "(`learning.judges_by_results = true`); the last row is the paired difference "
                "between the longest and the shortest delay.", ""]
        delay_horizons: dict[str, dict[int, dict]] = {}
        for judging, overrides in (("at once", {}),
                                   ("by delayed results", {"learning.judges_by_results": True})):
            out += [f"Strategies judged {judging}:", ""]
            delay_horizons[judging] = {}
            for size in [n for n in sizes if n in DELAY_SIZES]:
                lines, delay_horizons[judging][size] = over_time(
                    "problem.delay_months", "delay", DELAYS, YEARS, size,
                    replicate_seeds(BASE_SEED, REPLICATES.get(size, 24)), pool, overrides)
                out += lines + [""]
        plot_over_time({f"judged {judging}, {size:,} organizations": gaps
                        for judging, by_size in delay_horizons.items()
                        for size, gaps in by_size.items()},
                       DELAYS, "response delay (months)", BY_DELAY,
                       "Collective minus isolated impact by response delay, complex problem "
                       "(mean and 95% interval)", columns=len(delay_horizons["at once"]))
        out += [f"![The advantage by delay at years 5 to 30](img/findings/{BY_DELAY.name})", ""]
    out += [f"Computed in {time.time() - started:.0f} s wall ({args.workers} workers).", ""]
    found = patterns(sizes, effects, j_curves, indicators, later_leads, proof_delays, horizons,
                     delay_horizons)
    found.append(ordering_across_posterior(posterior_facts))
    found.append(optimum_overlaps(optima))
    found.append(carriers(carried))
    FINDINGS.write_text("\n".join(out))
    text = README.read_text()
    head, rest = text.split(SUMMARY_START, 1)
    _, tail = rest.split(SUMMARY_END, 1)
    README.write_text(head + SUMMARY_START + "\n"
                      + "\n".join(summary(sizes, found, by_construction(sizes, gateways, joined)))
                      + "\n"
                      + SUMMARY_END + tail)
    print(f"wrote {FINDINGS} and the summary in {README.name} in {time.time() - started:.0f} s "
          f"(main process CPU {time.process_time() - cpu:.0f} s)")


if __name__ == "__main__":
    main()
