"""The workshop page in a real browser, with the network unavailable to the page.

Starts ``ci-sim workshop`` on loopback, drives Debian's chromium with playwright (never a
downloaded browser), blocks every request that is not for the page's own server, and checks
that nothing failed to load, that stepping the model and flipping a mindset toggle both change
the charts, and that a toggle replays the runs to the month on screen.

The server is also denied the internet (its CDN proxy points at a closed loopback port), so
the page renders only from what is installed. Set ``CI_SIM_WORKSHOP_SCREENSHOT`` to a path
to keep the screenshot (the docs' ``docs/img/workshop.png`` is made this way).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed at /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def workshop_url():
    port = free_port()
    env = dict(os.environ, SOLARA_ASSETS_CDN="http://127.0.0.1:9/")
    server = subprocess.Popen([sys.executable, "-m", "ci_sim.cli", "workshop", "--host",
                               "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"workshop server did not start:\n{server.communicate()[0]}")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def month_shown(page) -> int:
    return int(re.search(r"Month (\d+)", page.locator(".ci-month").inner_text()).group(1))


def chart_sources(page) -> list[str]:
    images = page.locator("img")
    return [images.nth(i).get_attribute("src") for i in range(images.count())]


def wait_until_settled(page, quiet_ms: int = 800) -> list[str]:
    """Wait until the charts stop changing; return their sources."""
    sources = chart_sources(page)
    while True:
        page.wait_for_timeout(quiet_ms)
        now = chart_sources(page)
        if now == sources:
            return now
        sources = now


def test_workshop_page_offline_step_and_toggle(workshop_url, tmp_path):
    blocked, failed, errors = [], [], []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1600, "height": 1000})

        def only_loopback(route):
            url = route.request.url
            if url.startswith((workshop_url, workshop_url.replace("http", "ws", 1), "data:",
                               "blob:")):
                route.continue_()
            else:
                blocked.append(url)
                route.abort()

        page.route("**/*", only_loopback)
        page.on("requestfailed", lambda request: failed.append((request.url, request.failure)))
        page.on("response", lambda response: errors.append((response.url, response.status))
                if response.status >= 400 else None)
        page.goto(workshop_url)
        page.locator(".ci-month").wait_for(timeout=60_000)
        page.locator("img").nth(1).wait_for(timeout=60_000)
        assert page.locator("img").count() == 2, "expected the network and the metrics charts"
        assert month_shown(page) == 0

        # Step: the month advances and both charts are redrawn.
        before_step = wait_until_settled(page)
        for expected in range(1, 7):
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(
                "m => /Month (\\d+)/.exec(document.querySelector('.ci-month').innerText)[1] == m",
                arg=str(expected), timeout=15_000)
        after_steps = wait_until_settled(page)
        assert after_steps[0] != before_step[0] and after_steps[1] != before_step[1]

        # Flip a mindset toggle: the after run is replayed to the same month, charts change.
        month = month_shown(page)
        started = time.perf_counter()
        page.get_by_text("Credit: credit as shared currency").click()
        page.wait_for_function("s => document.querySelectorAll('img')[1].src !== s",
                               arg=after_steps[1], timeout=15_000)
        latency = time.perf_counter() - started
        page.get_by_text("Credit: credit hoarded").wait_for(timeout=15_000)
        flipped = wait_until_settled(page)
        assert flipped[1] != after_steps[1]
        assert month_shown(page) == month
        print(f"\ntoggle flip to redrawn charts: {latency:.2f} s (month {month})")

        # Speed up to a year per update, run to year five, flip the toggle back there.
        speed = page.get_by_role("slider").first
        speed.focus()
        speed.press("End")
        for _ in range(4):
            shown = month_shown(page)
            page.get_by_role("button", name="Step").click()
            page.wait_for_function(
                "m => /Month (\\d+)/.exec(document.querySelector('.ci-month').innerText)[1] > m",
                arg=shown, timeout=15_000)
        settled = wait_until_settled(page)
        month = month_shown(page)
        assert month == 6 + 4 * 12
        started = time.perf_counter()
        page.get_by_text("Credit: credit hoarded").click()
        page.wait_for_function("s => document.querySelectorAll('img')[1].src !== s",
                               arg=settled[1], timeout=15_000)
        print(f"toggle flip to redrawn charts: {time.perf_counter() - started:.2f} s "
              f"(month {month})")
        page.get_by_text("Credit: credit as shared currency").wait_for(timeout=15_000)
        wait_until_settled(page)
        assert month_shown(page) == month

        shot = Path(os.environ.get("CI_SIM_WORKSHOP_SCREENSHOT") or tmp_path / "workshop.png")
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.locator(".v-navigation-drawer__content").evaluate("e => e.scrollTop = 0")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        browser.close()
    assert blocked == [], f"the page tried to reach the internet: {blocked}"
    assert failed == [], f"requests failed: {failed}"
    assert errors == [], f"requests answered with errors: {errors}"
