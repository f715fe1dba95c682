"""The participatory room: players' choices in the model, the room's rules, its safety on a
network, the session file and its replay, and the server under 30 participants."""

from __future__ import annotations

import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ci_sim.cli import app
from ci_sim.model import CollectiveImpactModel
from ci_sim.model.choices import BEHAVIOURS, Play, PlayerChoices
from ci_sim.model.scenarios import load_scenario
from ci_sim.room import Room, RoomError
from ci_sim.session import read_session, room_seed
from ci_sim.simulate import run
from room_server import start_room

SELFISH = {"claims_credit": 1, "attends_meetings": 0, "shares_data": 0, "follows_agenda": 0}
SHIFTED = {"claims_credit": 0, "attends_meetings": 1, "shares_data": 1, "follows_agenda": 1}


def small_scenario(years: float = 2.0):
    return load_scenario(None, {"years": years})[0]


def test_no_choices_leave_the_run_unchanged():
    scenario = small_scenario()
    plain = run(scenario, 4)
    played = run(scenario, 4, plays=[Play(0, 1, {})])  # a player who leaves it all to the rule
    pd.testing.assert_frame_equal(plain, played)


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_every_choice_moves_the_run_and_the_engines_agree(behaviour):
    scenario = small_scenario()
    model = CollectiveImpactModel(scenario, rng=4)
    grantees = np.flatnonzero(model.grantee)
    plays = [Play(0, int(i), {behaviour: SELFISH[behaviour]}) for i in grantees]
    numba = run(scenario, 4, plays=plays)
    python = run(scenario, 4, engine="python", plays=plays)
    np.testing.assert_allclose(numba.drop(columns=["step"]).to_numpy(),
                               python.drop(columns=["step"]).to_numpy(), rtol=0, atol=1e-9)
    assert not numba.equals(run(scenario, 4)), f"{behaviour} changed nothing"


def test_funders_choosing_whom_to_fund_move_money_and_keep_the_total():
    scenario = small_scenario()
    model = CollectiveImpactModel(scenario, rng=2)
    funders = np.flatnonzero(~model.grantee)
    favourite = int(np.flatnonzero(model.grantee)[0])
    rule = CollectiveImpactModel(scenario, rng=2)
    for funder in funders:
        model.choices.fund(int(funder), [favourite])
    for _ in range(3):
        model.step()
        rule.step()
    assert model.funding[favourite] > 3 * rule.funding[favourite]
    assert model.funding.sum() == pytest.approx(rule.funding.sum(), rel=1e-12)
    assert model.metrics["funding_gini"] > rule.metrics["funding_gini"]



def test_a_funder_funds_only_grantees_and_one_naming_none_leaves_the_money_to_the_rule():
    scenario = small_scenario()
    model = CollectiveImpactModel(scenario, rng=2)
    funders = [int(f) for f in np.flatnonzero(~model.grantee)]
    favourite = int(np.flatnonzero(model.grantee)[0])
    rule = CollectiveImpactModel(scenario, rng=2)
    only_funders = CollectiveImpactModel(scenario, rng=2)
    for funder in funders:
        model.choices.fund(funder, [favourite, *funders])
        only_funders.choices.fund(funder, funders)
    for _ in range(3):
        for run_ in (model, rule, only_funders):
            run_.step()
    assert model.funding[funders].sum() == 0.0
    assert model.funding.sum() == pytest.approx(rule.funding.sum(), rel=1e-12)
    np.testing.assert_array_equal(only_funders.funding, rule.funding)

def test_choices_refuse_values_that_are_not_choices():
    choices = PlayerChoices(5)
    with pytest.raises(ValueError, match="0 or 1"):
        choices.set(0, "claims_credit", 0.5)
    with pytest.raises(ValueError, match="unknown behaviour"):
        choices.set(0, "bribes", 1)
    assert choices.empty
    choices.set(0, "shares_data", 0)
    assert not choices.empty
    choices.set(0, "shares_data", None)
    assert choices.empty


def play_room(room: Room, quarters: int) -> dict[int, dict]:
    """Join three players and play: one shifted, one selfish, one funder or mixed."""
    keys = [room.join(room.code, f"p{n}")["player"] for n in range(3)]
    for quarter in range(quarters):
        for n, key in enumerate(keys):
            player = room.players[key]
            if room.is_funder(player.organization):
                grantees = np.flatnonzero(room.model.grantee)[:2].tolist()
                action = {"funds": grantees}
            else:
                action = [SHIFTED, SELFISH, {**SHIFTED, "shares_data": quarter % 2}][n]
            room.choose(key, {"quarter": room.quarter + 1, **action})
        room.advance(room.token)
    return {room.players[key].organization: room.standing[room.players[key].organization]
            for key in keys}


def test_a_saved_session_replays_with_ci_sim_run(tmp_path):
    room = Room(small_scenario(10), seed=9, out=tmp_path / "room")
    play_room(room, quarters=5)
    session, _ = read_session(tmp_path / "room" / "session.toml")
    assert session.seed == 9 and session.months == 15 and len(session.plays) == 15
    out = tmp_path / "replay"
    result = CliRunner().invoke(app, ["run", str(tmp_path / "room" / "session.toml"),
                                      "--replicates", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    replay = pd.read_parquet(out / "timeseries.parquet")
    assert replay["seed"].iloc[0] == room_seed(9)
    room_run = pd.DataFrame(room.model.history)
    assert len(replay) == len(room_run) == 16
    for metric in room_run.columns:
        np.testing.assert_allclose(replay[metric], room_run[metric], rtol=0, atol=1e-12)
    # The same choices carried on to ten years: the base of a "what if" run.
    longer = CliRunner().invoke(app, ["run", str(tmp_path / "room" / "session.toml"),
                                      "--replicates", "2", "--years", "10", "--out",
                                      str(tmp_path / "longer")])
    assert longer.exit_code == 0, longer.output


def test_the_room_compares_with_the_model_on_the_same_seed():
    room = Room(small_scenario(), seed=5)
    play_room(room, quarters=2)
    own = run(small_scenario(), room_seed(5))
    collective = pd.DataFrame(room.references["collective_impact"].history)
    np.testing.assert_allclose(collective["outcome"], own["outcome"].iloc[:7], atol=1e-12)
    isolated = run(load_scenario("isolated_impact", {"years": 2.0})[0], room_seed(5))
    np.testing.assert_allclose(pd.DataFrame(room.references["isolated_impact"].history)
                               ["mean_trust"], isolated["mean_trust"].iloc[:7], atol=1e-12)
    view = room.facilitator_view(room.token)
    assert view["shifted_share"]["claims_credit"] is not None
    assert set(view["metrics"]) == {"room", "collective_impact", "isolated_impact"}


@pytest.mark.parametrize("action, message", [
    ("not a dict", "set of named answers"),
    ({}, "which quarter"),
    ({"quarter": "1"}, "which quarter"),
    ({"quarter": 2}, "now choosing for quarter 1"),
    ({"quarter": 1, "claims_credit": 2}, "0 or 1"),
    ({"quarter": 1, "claims_credit": True}, "0 or 1"),
    ({"quarter": 1, "claims_credit": 1}, "Answer every question"),
    ({"quarter": 1, **SHIFTED, "bribe": 1}, "'bribe' is not a choice"),
    ({"quarter": 1, "funds": [1]}, "not a choice here"),
])
def test_malformed_and_out_of_turn_actions_get_a_message(action, message):
    room = Room(small_scenario(), seed=1)
    key = room.join(room.code)["player"]  # the first player is a nonprofit
    with pytest.raises(RoomError, match=message):
        room.choose(key, action)


def test_joining_needs_the_code_and_the_room_has_a_limit():
    room = Room(small_scenario(), seed=1, max_participants=2)
    with pytest.raises(RoomError, match="not this room's code"):
        room.join("ZZZZ" if room.code != "ZZZZ" else "YYYY")
    with pytest.raises(RoomError, match="not this room's code"):
        room.join(None)
    first = room.join(room.code.lower(), "  Ann   Lee ")
    second = room.join(room.code, "x" * 100)
    assert first["organization"] != second["organization"]
    assert room.players[second["player"]].name == "x" * 24
    with pytest.raises(RoomError, match="full"):
        room.join(room.code)
    with pytest.raises(RoomError, match="has not joined"):
        room.choose("forged-key", {"quarter": 1, **SHIFTED})


def test_only_the_facilitator_steers():
    room = Room(small_scenario(), seed=1)
    key = room.join(room.code)["player"]
    for token in (None, "", key, room.code, room.token[:-1]):
        with pytest.raises(RoomError, match="Only the facilitator") as refused:
            room.advance(token)
        assert refused.value.status == 403
        with pytest.raises(RoomError, match="Only the facilitator"):
            room.facilitator_view(token)
    assert room.month == 0
    room.advance(room.token, 100)
    assert room.finished
    with pytest.raises(RoomError, match="ended"):
        room.advance(room.token)
    with pytest.raises(RoomError, match="ended"):
        room.choose(key, {"quarter": room.quarter + 1, **SHIFTED})


@pytest.fixture(scope="module")
def served_room(tmp_path_factory):
    server = start_room(tmp_path_factory.mktemp("room"), "--max-participants", "30")
    yield server
    server.stop()


def test_over_http_a_participant_cannot_steer_and_bad_requests_get_messages(served_room):
    room = served_room
    status, joined = room.call("/api/join", {"code": room.code, "name": "<script>x</script>"})
    assert status == 200
    player = {"X-Player": joined["player"]}
    for headers in ({}, player, {"X-Facilitator-Token": "guess"},
                    {"X-Facilitator-Token": room.code}):
        for path, body in (("/api/advance", {"quarters": 1}), ("/api/facilitator", None),
                           ("/api/picture/network.png", None), ("/api/history", None)):
            status, answer = room.call(path, body, headers=headers)
            assert status == 403 and "Only the facilitator" in answer["error"], (path, headers)
    cases = [
        ("/api/choose", dict(raw=b"{not json", headers=player), 400, "not JSON"),
        ("/api/choose", dict(raw=b"\xff\xfe", headers=player), 400, "not JSON"),
        ("/api/choose", dict(raw=b"[" * 5000, headers=player), 400, "not JSON"),
        ("/api/choose", dict(raw=b"{" + b" " * 20_000 + b"}", headers=player), 413,
         "too long"),
        ("/api/choose", dict(body=[1, 2], headers=player), 400, "named answers"),
        ("/api/choose", dict(body={"quarter": 7, **SHIFTED}, headers=player), 409,
         "now choosing for quarter"),
        ("/api/choose", dict(body={"quarter": 1, **SHIFTED}), 403, "has not joined"),
        ("/api/join", dict(body={"code": "nope"}), 403, "not this room's code"),
        ("/api/join", dict(body="code"), 400, "room code"),
        ("/api/advance", dict(body={"quarters": "all"}, headers=room.facilitator()), 400,
         "at least one quarter"),
        ("/api/picture/secrets.png", dict(headers=room.facilitator()), 404, "No such picture"),
        ("/etc/passwd", dict(), 404, "No such page"),
    ]
    for path, options, status, message in cases:
        got, answer = room.call(path, **options)
        assert got == status and message in answer["error"], (path, options, got, answer)
    status, view = room.call("/api/facilitator", headers=room.facilitator())
    assert status == 200 and view["participants"][0]["name"] == "<script>x</script>"
    status, page = room.call("/")
    assert b"Content-Security-Policy" not in page  # a header, checked below
    request = __import__("urllib.request").request.urlopen(room.url + "/facilitator")
    policy = request.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy


def test_thirty_participants_on_loopback_stay_responsive(served_room):
    """30 phones join, poll every 0.5 s and send choices while the facilitator plays four
    quarters and fetches the charts; every request is timed."""
    room = served_room
    times: list[float] = []
    failures: list[tuple] = []
    lock = threading.Lock()
    done = threading.Event()

    def timed(path, body=None, headers=None):
        started = time.perf_counter()
        status, answer = room.call(path, body, headers=headers)
        with lock:
            times.append(time.perf_counter() - started)
        return status, answer

    def participant(number: int) -> None:
        status, joined = timed("/api/join", {"code": room.code, "name": f"load {number}"})
        if status != 200:
            failures.append(("join", status, joined))
            return
        headers = {"X-Player": joined["player"]}
        while not done.is_set():
            status, view = timed("/api/me", headers=headers)
            if status != 200:
                failures.append(("me", status, view))
                return
            if not view["sent"] and not view["finished"]:
                action = {"funds": [view["grantees"][0]["index"]]} \
                    if view["organization"]["funder"] else SHIFTED if number % 2 else SELFISH
                status, answer = timed("/api/choose", {"quarter": view["quarter"], **action},
                                       headers=headers)
                if status not in (200, 409):  # 409: the quarter moved on meanwhile
                    failures.append(("choose", status, answer))
            time.sleep(0.5)

    status, before = room.call("/api/facilitator", headers=room.facilitator())
    joined_before = len(before["participants"])
    started = time.perf_counter()
    with ThreadPoolExecutor(30) as pool:
        workers = [pool.submit(participant, number) for number in range(30 - joined_before)]
        time.sleep(3)
        for _ in range(4):
            status, answer = timed("/api/advance", {"quarters": 1}, room.facilitator())
            assert status == 200, answer
            for kind in ("network", "debrief"):
                assert timed(f"/api/picture/{kind}.png", headers=room.facilitator())[0] == 200
            time.sleep(1.5)
        done.set()
        for worker in workers:
            worker.result()
    elapsed = time.perf_counter() - started
    assert failures == []
    status, view = room.call("/api/facilitator", headers=room.facilitator())
    assert len(view["participants"]) == 30
    status, refused = room.call("/api/join", {"code": room.code})
    assert status == 409 and "full" in refused["error"]
    ordered = sorted(times)
    p50, p95 = statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]
    print(f"\n30 participants, {len(times)} requests in {elapsed:.1f} s: median "
          f"{1000 * p50:.0f} ms, 95th percentile {1000 * p95:.0f} ms, slowest "
          f"{1000 * ordered[-1]:.0f} ms")
    assert p95 < 2.0 and ordered[-1] < 10.0


def test_a_session_is_the_base_of_a_sweep(tmp_path):
    room = Room(small_scenario(2), seed=4, out=tmp_path / "room")
    play_room(room, quarters=4)
    experiment = tmp_path / "what_if.toml"
    experiment.write_text('''
name = "what_if"
method = "grid"
samples = 2
scenario = "room/session.toml"
seed = 4
replicates = 1
levels = 2

[parameters]
"mindsets.shared_credit" = [0.2, 1.0]

[outputs]
trust = { metric = "mean_trust" }
''')
    result = CliRunner().invoke(app, ["sweep", str(experiment), "--out", str(tmp_path / "sw")])
    assert result.exit_code == 0, result.output
    runs = pd.read_parquet(next((tmp_path / "sw").glob("runs*.parquet")))
    assert len(runs) == 2 and runs["trust"].nunique() == 2
    # Every run replays the room's choices: the players' organizations behave as they chose.
    from ci_sim.studies.sweep.experiment import load_experiment

    loaded = load_experiment(experiment)
    assert list(loaded.plays) == room.plays
