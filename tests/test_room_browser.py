"""A workshop room in real browsers: a facilitator and four phones play two simulated years.

Starts ``ci-sim workshop --room`` on loopback and drives Debian's chromium with playwright
(never a downloaded browser): a facilitator's page at 1920 x 1080 and four participants on
390 x 844 phone screens, each in its own browser context, join by the room code, send their
choices every quarter for eight quarters while the facilitator plays them. Every request
that is not for the room's own server is blocked and recorded. The facilitator's debrief
must show each player's choices; the saved session must replay with ``ci-sim run`` to the
room's trajectory. Set ``CI_SIM_ROOM_SCREENSHOTS`` to a folder to keep the screenshots (the
docs' ``docs/img/room_facilitator.png`` and ``docs/img/room_phone.png`` are made this way).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from room_server import start_room

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="Debian's chromium is not installed at /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")

#: What each of the four players answers (1 = the first option shown, 0 = the second).
ANSWERS = {
    1: {"claims_credit": 0, "attends_meetings": 1, "shares_data": 1, "follows_agenda": 1},
    2: {"claims_credit": 1, "attends_meetings": 0, "shares_data": 0, "follows_agenda": 0},
    4: {"claims_credit": 0, "attends_meetings": 1, "shares_data": 0, "follows_agenda": 1},
}
QUARTERS = 8


def test_facilitator_and_four_phones_play_two_years(tmp_path):
    room = start_room(tmp_path / "room")
    shots = Path(os.environ.get("CI_SIM_ROOM_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    blocked = []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])

            def only_the_room(route):
                if route.request.url.startswith((room.url, "blob:", "data:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            def new_page(**options):
                context = browser.new_context(**options)
                context.route("**/*", only_the_room)
                return context.new_page()

            facilitator = new_page(viewport={"width": 1920, "height": 1080})
            facilitator.goto(f"{room.url}/facilitator#token={room.token}")
            facilitator.locator("#code").filter(has_text=room.code).wait_for(timeout=30_000)

            phones = []
            for number in range(1, 5):
                phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True,
                                 has_touch=True)
                phone.goto(room.url)
                phone.fill("#code", room.code.lower())
                phone.fill("#name", f"Player {number}")
                phone.click("#join-button")
                phone.locator("#who").wait_for(timeout=30_000)
                phones.append(phone)
            facilitator.locator("#count").filter(has_text="4 of 30 joined").wait_for(
                timeout=30_000)
            # Players take organizations sector by sector: the third is a funder.
            assert "funder" in phones[2].locator("#who").inner_text()

            for quarter in range(1, QUARTERS + 1):
                for number, phone in enumerate(phones, start=1):
                    phone.locator("#send").filter(has_text=f"quarter {quarter}").wait_for(
                        timeout=30_000)
                    if number == 3:
                        if quarter == 1:
                            boxes = phone.locator("input[name=funds]")
                            boxes.nth(0).check()
                            boxes.nth(1).check()
                    else:
                        answers = dict(ANSWERS[number])
                        if number == 4 and quarter > 4:  # player 4 starts sharing data
                            answers["shares_data"] = 1
                        for name, value in answers.items():
                            phone.locator(f"input[name={name}][value='{value}']").check()
                    phone.click("#send")
                    phone.locator("#status").filter(has_text="Your choices are in").wait_for(
                        timeout=30_000)
                    if quarter == 2 and number == 1:
                        phone.evaluate("window.scrollTo(0, 0)")
                        phone.screenshot(path=str(shots / "room_phone.png"))
                facilitator.locator("#count").filter(has_text="4 sent").wait_for(
                    timeout=30_000)
                facilitator.click("#quarter")
                facilitator.locator("#clock").filter(
                    has_text=f"Quarter {quarter + 1} of").wait_for(timeout=30_000)

            # An out-of-turn send from a page left on an old quarter gets a message.
            stale = phones[0]
            stale.evaluate("() => fetch('/api/choose', {method: 'POST', headers: "
                           "{'Content-Type': 'application/json', 'X-Player': "
                           "sessionStorage.getItem('ci-player')}, body: "
                           "JSON.stringify({quarter: 1, claims_credit: 0, attends_meetings: 1, "
                           "shares_data: 1, follows_agenda: 1})}).then(r => r.json())"
                           ".then(d => { document.getElementById('message').textContent = "
                           "d.error; })")
            stale.locator("#message").filter(has_text="now choosing for quarter 9").wait_for(
                timeout=15_000)

            # The debrief: every player's row, one column per quarter, their choices shown.
            facilitator.locator("#choices th").filter(has_text=f"Q{QUARTERS}").wait_for(
                timeout=30_000)
            rows = facilitator.locator("#choices tr.player-row")
            assert rows.count() == 4
            first, second, funder, fourth = (rows.nth(i) for i in range(4))
            assert first.locator(".chip.yes").count() == 4 * QUARTERS
            assert first.locator(".chip.no").count() == 0
            assert second.locator(".chip.no").count() == 4 * QUARTERS
            assert "funds" in funder.inner_text()
            assert fourth.locator(".chip.no").count() == 4  # data kept for four quarters
            for number in range(1, 5):
                assert f"Player {number}" in rows.nth(number - 1).inner_text()
            compare = facilitator.locator("#compare").inner_text()
            assert "This room" in compare and "Model: isolated impact" in compare
            assert "shared credit" in facilitator.locator("#shifted").inner_text()
            facilitator.locator("#network[src^='blob:']").wait_for(timeout=30_000)
            facilitator.locator("#debrief[src^='blob:']").wait_for(timeout=30_000)
            facilitator.wait_for_timeout(1_500)
            # Natural size: the charts' 18 pt text is not scaled down at 1920 x 1080.
            for chart in ("#network", "#debrief"):
                natural, shown = facilitator.locator(chart).evaluate(
                    "img => [img.naturalWidth, img.getBoundingClientRect().width]")
                assert shown >= 0.95 * natural, (chart, natural, shown)
            facilitator.screenshot(path=str(shots / "room_facilitator.png"))
            browser.close()

        assert blocked == [], f"the pages tried to reach beyond the room: {blocked}"
        status, history = room.call("/api/history", headers=room.facilitator())
        assert status == 200
    finally:
        room.stop()

    # The saved session replays with ci-sim run to the room's trajectory.
    session = tmp_path / "room" / "session.toml"
    out = tmp_path / "replay"
    result = CliRunner().invoke(app, ["run", str(session), "--replicates", "1", "--out",
                                      str(out)])
    assert result.exit_code == 0, result.output
    replay = pd.read_parquet(out / "timeseries.parquet")
    played = pd.DataFrame(history["room"])
    assert len(played) == len(replay) == 3 * QUARTERS + 1
    for metric in played.columns:
        np.testing.assert_allclose(replay[metric], played[metric], rtol=0, atol=1e-12)
    # The room's choices made a difference to its run.
    model_run = pd.DataFrame(history["collective_impact"])
    assert not np.allclose(model_run["mean_trust"], played["mean_trust"])
