"""docs/ODD.md stays true to the code: generated tables current, every parameter, metric and kernel
described."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from ci_sim.model.engines import KERNELS
from ci_sim.model import METRICS
from ci_sim.model.params import parameter_names
from ci_sim.model.scenarios import builtin_names

DOCS = Path(__file__).resolve().parents[1] / "docs"
ODD = DOCS / "ODD.md"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_parameters", DOCS / "gen_parameters.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = load_generator()
TEXT = ODD.read_text(encoding="utf-8")


def block(text: str, name: str) -> str:
    return text.split(f"<!-- {name}:start -->")[1].split(f"<!-- {name}:end -->")[0]


def prose(text: str) -> str:
    """The hand-written part: generated blocks removed, LaTeX underscores unescaped."""
    for name in gen.BLOCKS:
        text = text.replace(block(text, name), "")
    return text.replace("\\_", "_")


def test_generated_tables_are_current():
    assert gen.regenerate(TEXT) == TEXT, "run: python docs/gen_parameters.py"


def test_check_mode_reports_a_stale_table(tmp_path):
    stale = tmp_path / "ODD.md"
    stale.write_text(TEXT.replace("| `trust.initial` | float | `", "| `trust.initial` | float | `9"),
                     encoding="utf-8")
    assert gen.main([str(stale), "--check"]) == 1
    assert gen.main([str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == TEXT
    assert gen.main([str(stale), "--check"]) == 0


def test_missing_marker_is_an_error():
    with pytest.raises(ValueError, match="parameters:end"):
        gen.regenerate(TEXT.replace("<!-- parameters:end -->", ""))


def test_every_parameter_is_in_the_table_and_in_the_text():
    table = block(TEXT, "parameters")
    rows = re.findall(r"^\| `([a-z_.]+)` \|", table, flags=re.MULTILINE)
    assert rows == parameter_names()
    text = prose(TEXT)
    # Named in code spans (`name`, `name = value`) or in equations (\texttt{name}).
    undescribed = [name for name in parameter_names()
                   if not re.search(r"[`{]" + re.escape(name) + r"[`} ]", text)]
    assert not undescribed, f"parameters not named outside the generated table: {undescribed}"


def test_every_metric_is_described():
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| (.+) \|$", prose(TEXT), flags=re.MULTILINE))
    missing = [name for name in METRICS if not rows.get(name, "").strip()]
    assert not missing, f"metrics without a row in the metrics table: {missing}"


def test_every_kernel_and_builtin_scenario_is_named():
    text = prose(TEXT)
    assert [k for k in KERNELS if f"`{k}`" not in text] == []
    scenarios = block(TEXT, "scenarios")
    assert [s for s in builtin_names() if f"| `{s}` |" not in scenarios] == []


def test_the_readme_account_of_findings_comes_from_the_findings_run():
    """The README's account (written by docs/gen_findings.py with docs/findings.md) quotes the
    same run: its sizes are the table's columns, and its first range is the table's
    collective-impact-minus-coalition row, from the smallest to the largest mean."""
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    account = block(readme, "findings")
    findings = (DOCS / "findings.md").read_text(encoding="utf-8")
    header = next(line for line in findings.splitlines() if line.startswith("| effect (year 10)"))
    sizes = re.findall(r"([\d,]+) orgs", header)
    assert f"Measured at {', '.join(sizes[:-1])} and {sizes[-1]} organizations" in account
    row = next(line for line in findings.splitlines()
               if line.startswith("| Collective impact - coalition (complex problem)"))
    means = [float(cell.split("±")[0]) for cell in row.strip("|").split("|")[1:]]
    quoted = re.search(r"beats a coalition without one \(([+-][\d.]+)(?: to ([+-][\d.]+))? on "
                       r"the year-10 outcome\)", account)
    assert quoted, "the README's account does not quote collective impact - coalition"
    low, high = float(quoted[1]), float(quoted[2] or quoted[1])
    # Two decimals in the README, three in the table: equal up to rounding.
    assert abs(low - min(means)) <= 0.0051 and abs(high - max(means)) <= 0.0051
