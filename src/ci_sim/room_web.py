"""The web front end of a workshop room (:mod:`ci_sim.room`): a phone page, a facilitator's
page and a small JSON interface, served by uvicorn.

Safe on a shared network: the server binds 127.0.0.1 unless told otherwise; joining needs
the room code, steering needs the facilitator's token (sent in a header, never in a URL a
log or a Referer could keep: the facilitator's link carries it after ``#``); the room
admits at most ``max_participants``; every request body is capped in size; every malformed,
unknown or out-of-turn action is answered with a message, never a crash. The pages load
nothing from outside: their script, style and pictures come from this server only, and the
Content-Security-Policy says so to the browser. Names participants type are shown as text,
never as markup.
"""

from __future__ import annotations

import json
import threading
import time
import types
from collections import defaultdict, deque
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ci_sim.figures import OKABE_ITO, NetworkPicture, network_layout, sector_legend
from ci_sim.model import STEPS_PER_YEAR
from ci_sim.room import CHOICE_WORDS, DEBRIEF_METRICS, Room, RoomError

#: Largest request body accepted, bytes (a funder choosing every grantee fits easily).
MAX_BODY = 8192
#: Wrong room codes one address may try in a minute before it is told to wait.
MAX_WRONG_CODES = 20
#: Chart text, at least 18 pt, for the projector.
ROOM_STYLE = {"font.size": 18, "axes.titlesize": 20, "axes.labelsize": 18,
              "xtick.labelsize": 18, "ytick.labelsize": 18, "legend.fontsize": 18,
              "axes.spines.top": False, "axes.spines.right": False}
RUN_LOOKS = {"room": {"color": OKABE_ITO["black"], "linestyle": "-", "label": "this room"},
             "collective_impact": {"color": OKABE_ITO["blue"], "linestyle": "--",
                                   "label": "model: collective impact"},
             "isolated_impact": {"color": OKABE_ITO["vermillion"], "linestyle": ":",
                                 "label": "model: isolated impact"}}
HEADINGS = {"outcome": "Population outcome", "mean_trust": "Mean trust",
            "agenda_alignment": "Agenda alignment", "funding_gini": "Funding concentration"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' blob:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render_png(figure: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


class Pictures:
    """The facilitator's two charts, drawn once per month played whoever asks."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.cache: dict[tuple[str, int, int], bytes] = {}
        self.lock = threading.Lock()
        self.positions = network_layout(room.model.network, room.seed)

    def get(self, kind: str) -> bytes:
        with self.lock:
            key = (kind, self.room.month, len(self.room.players))
            if key not in self.cache:
                self.cache = {key: (self.network if kind == "network" else self.debrief)()}
            return self.cache[key]

    def network(self) -> bytes:
        """The room's trust network; played organizations ringed and numbered."""
        room = self.room
        with room.lock:
            model = room.model
            snapshot = types.SimpleNamespace(network=model.network, sector=model.sector.copy(),
                                             trust_of=model.trust.copy().of,
                                             capacity=model.capacity.copy())
            played = {p.organization: p.number for p in room.players.values()}
            month = room.month
        with matplotlib.rc_context(ROOM_STYLE):
            figure = Figure(figsize=(7.4, 7.2))
            figure.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.13)
            axis = figure.subplots()
            NetworkPicture(axis, snapshot, self.positions).update(
                snapshot, f"Trust network, month {month} (year {month / STEPS_PER_YEAR:.2g})")
            for organization, number in played.items():
                x, y = self.positions[organization]
                axis.scatter([x], [y], s=420, facecolors="none", edgecolors="#000000",
                             linewidths=2.5, zorder=3)
                axis.annotate(str(number), (x, y), xytext=(9, 9), textcoords="offset points",
                              fontsize=18, fontweight="bold", zorder=4)
            sector_legend(figure, loc="lower center", ncols=3, handletextpad=0.1,
                          columnspacing=1.0)
        return render_png(figure)

    def debrief(self) -> bytes:
        """The room's run against the model's own runs on the same seed."""
        histories = self.room.histories()
        years = self.room.horizon / STEPS_PER_YEAR
        with matplotlib.rc_context(ROOM_STYLE):
            figure = Figure(figsize=(10.2, 7.2))
            axes = figure.subplots(2, 2, sharex=True, gridspec_kw={
                "left": 0.09, "right": 0.98, "top": 0.86, "bottom": 0.09, "wspace": 0.3,
                "hspace": 0.3})
            for axis, metric in zip(axes.flat, DEBRIEF_METRICS):
                for name, rows in histories.items():
                    look = RUN_LOOKS[name]
                    axis.plot(np.arange(len(rows)) / STEPS_PER_YEAR, [r[metric] for r in rows],
                              color=look["color"], linestyle=look["linestyle"], lw=3,
                              label=look["label"])
                axis.set_title(HEADINGS[metric])
                axis.set_xlim(0, years)
                axis.set_ylim(0, 1)
                axis.grid(alpha=0.3)
            for axis in axes[1]:
                axis.set_xlabel("Year")
            figure.legend(*axes.flat[0].get_legend_handles_labels(), loc="upper center",
                          ncols=3, frameon=False)
        return render_png(figure)


def room_app(room: Room) -> Starlette:
    """The web application of ``room``."""
    pictures = Pictures(room)
    wrong_codes: dict[str, deque[float]] = defaultdict(deque)

    def answer(data: Any, status: int = 200) -> JSONResponse:
        return JSONResponse(data, status_code=status, headers=SECURITY_HEADERS)

    def refuse(message: str, status: int = 400) -> JSONResponse:
        return answer({"error": message}, status)

    async def body(request: Request) -> Any:
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                raise RoomError("That message is too long for this room.", status=413)
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise RoomError("That message could not be read (it is not JSON).") from None

    def handled(endpoint):
        """Answers a :class:`RoomError` with its message and anything unexpected with a
        plain one: a bad request never takes the room down."""
        async def run(request: Request) -> Response:
            try:
                return await endpoint(request)
            except RoomError as error:
                return refuse(str(error), error.status)
            except Exception as error:  # noqa: BLE001 - the room must outlive any request
                print(f"room: {request.method} {request.url.path}: "
                      f"{type(error).__name__}: {error}", flush=True)
                return refuse("Something went wrong with that request; the room carries on.",
                              500)
        return run

    def page(text: str, kind: str = "text/html") -> Any:
        async def serve(request: Request) -> Response:
            return Response(text, media_type=kind, headers=SECURITY_HEADERS)
        return serve

    async def join(request: Request) -> Response:
        address = request.client.host if request.client else "?"
        now = time.monotonic()
        recent = wrong_codes[address]
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= MAX_WRONG_CODES:
            raise RoomError("Too many wrong room codes from this device: wait a minute.", 429)
        data = await body(request)
        if not isinstance(data, dict):
            raise RoomError("Send the room code and a name.")
        try:
            return answer(room.join(data.get("code"), data.get("name", "")))
        except RoomError as error:
            if error.status == 403:
                recent.append(now)
            raise

    async def me(request: Request) -> Response:
        return answer(room.player_view(request.headers.get("x-player")))

    async def choose(request: Request) -> Response:
        return answer(room.choose(request.headers.get("x-player"), await body(request)))

    async def facilitator(request: Request) -> Response:
        return answer(room.facilitator_view(request.headers.get("x-facilitator-token")))

    async def advance(request: Request) -> Response:
        token = request.headers.get("x-facilitator-token")
        room.check_facilitator(token)
        data = await body(request)
        quarters = data.get("quarters", 1) if isinstance(data, dict) else None
        return answer(room.advance(token, quarters))

    async def picture(request: Request) -> Response:
        room.check_facilitator(request.headers.get("x-facilitator-token"))
        kind = request.path_params["kind"]
        if kind not in ("network", "debrief"):
            raise RoomError("No such picture.", status=404)
        return Response(pictures.get(kind), media_type="image/png", headers=SECURITY_HEADERS)

    async def history(request: Request) -> Response:
        room.check_facilitator(request.headers.get("x-facilitator-token"))
        return answer(room.histories())

    routes = [
        Route("/", page(PHONE_HTML)),
        Route("/facilitator", page(FACILITATOR_HTML)),
        Route("/room.css", page(ROOM_CSS, "text/css")),
        Route("/phone.js", page(PHONE_JS, "text/javascript")),
        Route("/facilitator.js", page(FACILITATOR_JS, "text/javascript")),
        Route("/api/join", handled(join), methods=["POST"]),
        Route("/api/me", handled(me)),
        Route("/api/choose", handled(choose), methods=["POST"]),
        Route("/api/facilitator", handled(facilitator)),
        Route("/api/advance", handled(advance), methods=["POST"]),
        Route("/api/picture/{kind}.png", handled(picture)),
        Route("/api/history", handled(history)),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return refuse("No such page in this room.", getattr(exc, "status_code", 404))

    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found})


def serve_room(room: Room, *, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve ``room`` with uvicorn until interrupted (no access log: it would hold the
    players' requests, and nothing in them is needed after the session)."""
    import uvicorn

    config = uvicorn.Config(room_app(room), host=host, port=port, log_level="warning",
                            access_log=False, lifespan="off", server_header=False)
    uvicorn.Server(config).run()


CHOICE_WORDS_JSON = json.dumps(CHOICE_WORDS)

ROOM_CSS = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1a1a1a; background: #f6f6f4; }
main { max-width: 640px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.5em; margin: 0.3em 0; }
.card { background: #fff; border-radius: 10px; padding: 10px 12px; margin: 8px 0;
        box-shadow: 0 1px 3px rgba(0,0,0,.15); }
label { display: block; padding: 10px 4px; font-size: 1.1em; }
input[type=text] { font-size: 1.3em; padding: 8px; width: 100%; box-sizing: border-box;
                   margin: 4px 0 10px; }
button { font-size: 1.15em; padding: 12px 18px; border: 0; border-radius: 8px;
         background: #0072B2; color: #fff; margin: 4px 4px 4px 0; }
button:disabled { background: #888; }
fieldset { border: 1px solid #ccc; border-radius: 8px; margin: 10px 0; padding: 4px 10px; }
legend { font-weight: bold; padding: 0 4px; }
.message { color: #a33200; font-weight: bold; margin: 4px 0; }
.sent { color: #00734f; font-weight: bold; }
.big { font-size: 3em; font-weight: bold; letter-spacing: 0.12em; }
.wide { max-width: 1880px; }
.columns { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.columns img { max-width: 100%; display: block; }
.network { flex: 0 1 760px; } .debrief { flex: 0 1 1040px; }
.clock { font-size: 1.6em; font-weight: bold; margin-bottom: 6px; }
table { border-collapse: collapse; font-size: 1.1em; }
td, th { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }
.yes { background: #cdeee2; } .no { background: #f8d3c2; }
.chip { display: inline-block; padding: 1px 5px; margin: 1px; border-radius: 4px;
        font-size: 0.85em; }
.facilitator { font-size: 20px; }
"""

PHONE_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Collective Impact room</title><link rel="stylesheet" href="/room.css"></head>
<body><main>
<h1>Collective Impact room</h1>
<section id="join" class="card">
  <p>Type the room code from the facilitator's screen.</p>
  <label>Room code <input id="code" type="text" autocomplete="off" autocapitalize="characters"
    maxlength="8"></label>
  <label>Your name (shown to the facilitator) <input id="name" type="text" maxlength="24"
    autocomplete="off"></label>
  <button id="join-button">Join</button>
</section>
<section id="play" hidden>
  <div class="card"><h2 id="who"></h2><p id="about"></p><p id="status"></p></div>
  <form id="choices" class="card"></form>
</section>
<p id="message" class="message" role="alert"></p>
</main><script src="/phone.js"></script></body></html>
"""

PHONE_JS = """
'use strict';
const WORDS = """ + CHOICE_WORDS_JSON + """;
const $ = (id) => document.getElementById(id);
let key = sessionStorage.getItem('ci-player') || '';
let shownQuarter = null;
let finishedShown = false;

async function api(path, body) {
  const options = {method: body === undefined ? 'GET' : 'POST',
                   headers: {'Content-Type': 'application/json', 'X-Player': key}};
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await fetch(path, options);
  let data = {};
  try { data = await response.json(); } catch (e) { data = {error: 'No answer from the room.'}; }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function say(text) { $('message').textContent = text || ''; }

function element(tag, text, attributes) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
  return node;
}

function describe(view) {
  const org = view.organization;
  $('who').textContent = 'You are organization ' + org.index + ': a ' + org.sector;
  let text;
  if (org.funder) {
    text = 'You give ' + Math.round(org.pool_share * 100) + '% of the funders\\' pool. ' +
      'Each quarter, choose whom you fund, or leave it to the usual rule.';
  } else {
    text = 'Staff: ' + org.staff + ' FTE; grant: ' + org.grant + ' a month; your mission ' +
      'focuses on indicators ' + org.mission.join(' and ') + ' of ' + org.indicators + '; ' +
      org.partners + ' partners trust you ' + org.trust_from_partners + ' on a 0-1 scale.';
  }
  $('about').textContent = text;
  $('status').textContent = view.finished ? 'The session has ended: look at the big screen.' :
    'Quarter ' + view.quarter + ' of ' + view.quarters + ' (month ' + view.month + '). ' +
    (view.sent ? 'Your choices are in: the facilitator will play the quarter.' :
                 'Make your choices and send them.');
  $('status').className = view.sent ? 'sent' : '';
}

function buildForm(view) {
  const form = $('choices');
  form.replaceChildren();
  if (view.finished) { form.hidden = true; return; }
  const choices = view.choices || {};
  if (view.organization.funder) {
    const set = element('fieldset');
    set.append(element('legend', 'Whom do you fund this quarter?'));
    for (const grantee of view.grantees) {
      const label = element('label');
      const box = element('input', null, {type: 'checkbox', name: 'funds',
                                          value: String(grantee.index)});
      box.checked = (choices.funds || []).includes(grantee.index);
      label.append(box, ' organization ' + grantee.index + ' (' + grantee.sector + ', grant ' +
                   grantee.grant + ')');
      set.append(label);
    }
    set.append(element('p', 'None ticked: your share follows the usual rule.'));
    form.append(set);
  } else {
    for (const [name, words] of Object.entries(WORDS)) {
      const set = element('fieldset');
      set.append(element('legend', words[0] + ' or ' + words[1].toLowerCase() + '?'));
      for (const [value, text] of [[1, words[0]], [0, words[1]]]) {
        const label = element('label');
        const radio = element('input', null, {type: 'radio', name: name, value: String(value)});
        radio.checked = choices[name] === value;
        label.append(radio, ' ' + text);
        set.append(label);
      }
      form.append(set);
    }
  }
  const send = element('button', 'Send my choices for quarter ' + view.quarter,
                       {type: 'submit', id: 'send'});
  form.append(send);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const action = {quarter: view.quarter};
    if (view.organization.funder) {
      action.funds = [...form.querySelectorAll('input[name=funds]:checked')]
        .map((box) => Number(box.value));
    } else {
      for (const name of Object.keys(WORDS)) {
        const picked = form.querySelector('input[name=' + name + ']:checked');
        if (!picked) { say('Answer every question first.'); return; }
        action[name] = Number(picked.value);
      }
    }
    try { await api('/api/choose', action); say(''); refresh(); }
    catch (error) { say(error.message); }
  };
}

async function refresh() {
  if (!key) return;
  try {
    const view = await api('/api/me');
    $('join').hidden = true;
    $('play').hidden = false;
    describe(view);
    if (view.quarter !== shownQuarter || (view.finished && !finishedShown)) {
      shownQuarter = view.quarter;
      finishedShown = view.finished;
      buildForm(view);
    }
  } catch (error) {
    say(error.message);
  }
}

$('code').value = new URLSearchParams(location.search).get('room') || '';
$('join-button').onclick = async () => {
  try {
    const joined = await api('/api/join', {code: $('code').value, name: $('name').value});
    key = joined.player;
    sessionStorage.setItem('ci-player', key);
    say('');
    refresh();
  } catch (error) { say(error.message); }
};
refresh();
setInterval(refresh, 2000);
"""

FACILITATOR_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Collective Impact room: facilitator</title><link rel="stylesheet" href="/room.css">
</head><body class="facilitator"><main class="wide">
<div class="columns">
  <div class="card"><div>Join at <b id="address"></b> with the room code</div>
    <div id="code" class="big"></div><div id="count"></div></div>
  <div class="card"><div id="clock" class="clock"></div>
    <button id="quarter">Play the quarter</button><button id="year">Play a year</button>
    <button id="end">Play to the end</button>
    <div id="saved"></div></div>
</div>
<p id="message" class="message" role="alert"></p>
<div class="columns">
  <div class="card network"><img id="network" alt="The room's trust network"></div>
  <div class="card debrief"><img id="debrief" alt="This room against the model's own runs">
  </div>
</div>
<div class="card"><h2>Debrief: this room and the model's own runs (same seed)</h2>
  <table id="compare"></table><p id="shifted"></p></div>
<div class="card"><h2>Who chose what</h2>
  <p>Each quarter: <span class="chip yes">shared choice</span> or
  <span class="chip no">own interest</span>. Cr: credit, Me: meetings, Da: data, Ag: agenda.</p>
  <div style="overflow-x:auto"><table id="choices"></table></div></div>
</main><script src="/facilitator.js"></script></body></html>
"""

FACILITATOR_JS = """
'use strict';
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.hash.slice(1)).get('token') || '';
const SHORT = {claims_credit: 'Cr', attends_meetings: 'Me', shares_data: 'Da',
               follows_agenda: 'Ag'};
const SHIFTED = {claims_credit: 0, attends_meetings: 1, shares_data: 1, follows_agenda: 1};
const NAMES = {room: 'This room', collective_impact: 'Model: collective impact',
               isolated_impact: 'Model: isolated impact'};
const HEADINGS = {outcome: 'Population outcome', mean_trust: 'Mean trust',
                  agenda_alignment: 'Agenda alignment', funding_gini: 'Funding concentration'};
let shownMonth = null;

async function api(path, body, raw) {
  const options = {method: body === undefined ? 'GET' : 'POST',
                   headers: {'Content-Type': 'application/json', 'X-Facilitator-Token': token}};
  if (body !== undefined) options.body = JSON.stringify(body);
  const response = await fetch(path, options);
  if (raw && response.ok) return response.blob();
  let data = {};
  try { data = await response.json(); } catch (e) { data = {error: 'No answer from the room.'}; }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function cell(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
}

async function picture(kind) {
  const blob = await api('/api/picture/' + kind + '.png', undefined, true);
  const image = $(kind);
  if (image.src) URL.revokeObjectURL(image.src);
  image.src = URL.createObjectURL(blob);
}

function render(view) {
  $('address').textContent = location.origin;
  $('code').textContent = view.code;
  const sent = view.participants.filter((p) => p.sent).length;
  $('count').textContent = view.participants.length + ' of ' + view.max_participants +
    ' joined; ' + sent + ' sent choices for this quarter';
  $('clock').textContent = view.finished ? 'Session ended (month ' + view.month + ')' :
    'Quarter ' + view.quarter + ' of ' + view.quarters + ' (year ' +
    (view.month / 12).toFixed(2) + ')';
  for (const id of ['quarter', 'year', 'end']) $(id).disabled = view.finished;
  $('saved').textContent = view.saved_to ? 'Saved to ' + view.saved_to : '';

  const compare = $('compare');
  compare.replaceChildren();
  const head = document.createElement('tr');
  head.append(cell('th', ''));
  for (const metric of Object.keys(HEADINGS)) head.append(cell('th', HEADINGS[metric]));
  compare.append(head);
  for (const [name, metrics] of Object.entries(view.metrics)) {
    const row = document.createElement('tr');
    row.append(cell('th', NAMES[name]));
    for (const metric of Object.keys(HEADINGS)) row.append(cell('td', metrics[metric].toFixed(2)));
    compare.append(row);
  }
  const parts = [];
  const words = {claims_credit: 'shared credit', attends_meetings: 'attended meetings',
                 shares_data: 'shared data', follows_agenda: 'followed the agenda'};
  for (const [name, share] of Object.entries(view.shifted_share)) {
    if (share !== null) parts.push(words[name] + ' ' + Math.round(share * 100) + '%');
  }
  $('shifted').textContent = parts.length ? 'Player-quarters that ' + parts.join(', ') + '.' : '';

  const table = $('choices');
  table.replaceChildren();
  const quarters = Object.keys(view.log).map(Number).sort((a, b) => a - b);
  const top = document.createElement('tr');
  top.append(cell('th', '#'), cell('th', 'player'), cell('th', 'organization'));
  for (const q of quarters) top.append(cell('th', 'Q' + (q + 1)));
  table.append(top);
  for (const player of view.participants) {
    const row = document.createElement('tr');
    row.className = 'player-row';
    row.append(cell('td', String(player.number)), cell('td', player.name),
               cell('td', player.organization + ' (' + player.sector + ')'));
    for (const q of quarters) {
      const choices = view.log[String(q)][String(player.organization)];
      const td = document.createElement('td');
      if (!choices) {
        td.textContent = 'rule';
      } else if ('funds' in choices || Object.keys(choices).length === 0) {
        td.textContent = choices.funds ? 'funds ' + choices.funds.join(', ') : 'rule';
      } else {
        for (const [name, short] of Object.entries(SHORT)) {
          td.append(cell('span', short, 'chip ' + (choices[name] === SHIFTED[name] ? 'yes' : 'no')));
        }
      }
      row.append(td);
    }
    table.append(row);
  }
}

async function refresh() {
  try {
    const view = await api('/api/facilitator');
    render(view);
    if (view.month !== shownMonth) {
      shownMonth = view.month;
      await Promise.all([picture('network'), picture('debrief')]);
    }
    $('message').textContent = '';
  } catch (error) { $('message').textContent = error.message; }
}

async function advance(quarters) {
  try { await api('/api/advance', {quarters: quarters}); await refresh(); }
  catch (error) { $('message').textContent = error.message; }
}

$('quarter').onclick = () => advance(1);
$('year').onclick = () => advance(4);
$('end').onclick = () => advance(100000);
refresh();
setInterval(refresh, 2000);
"""
