"""The stress-test report opened in headless Chromium: it renders, every image loads, and it
asks for nothing from the network."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci_sim.studies.stress import load_experiment, run_stress_test
from ci_sim.studies.stress.report import FIGURES

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs Debian's chromium at /usr/bin/chromium "
                                       "(apt-get install chromium)")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    experiment = load_experiment(None, shares="0,0.05,0.1,0.2", replicates=3, years=4.0,
                                 bootstrap=200, samples=2,
                                 shocks=["none", "backbone_cut:1", "pool_cut:2:0.3"])
    run_stress_test(experiment, out, workers=1)
    return out / "report.html"


def test_report_renders_with_every_image_in_headless_chromium(report, tmp_path):
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.on("request", lambda request: None if request.url.startswith(
                ("file:", "data:")) else outside.append(request.url))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            widths = page.evaluate("Array.from(document.images).map(image => "
                                   "image.complete ? image.naturalWidth : 0)")
            headline = page.inner_text(".recommendation .headline")
            screenshot = tmp_path / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert len(widths) == len(FIGURES)
    assert all(width > 0 for width in widths), widths
    assert headline.startswith("Put between") and "of the pool into the backbone" in headline
    assert outside == []
    assert screenshot.stat().st_size > 10_000
