"""The operator's page for a screening room: the room's film and position, a row per seat (state, film, position,
its error against the room in ms, headset, dropped frames, last seen), and the commands, to every seat or one.
Static HTML with its inline script and style, allowed by hash (as the kiosk's page): the script fetches
/api/status every second and writes every value with textContent, so no seat's or film's name becomes markup."""

from __future__ import annotations

from vrplayer.kiosk.control_page import STYLE, page, page_csp

_STYLE = STYLE + """
#seats td{white-space:nowrap;font-variant-numeric:tabular-nums}
#seats th{text-align:left;color:#aaa;font-weight:normal;padding:.35rem}
.lost{color:#f66}
select{font-size:1.1rem;padding:.4rem;border-radius:.4rem}
.wide{overflow-x:auto}
"""

_SCRIPT = """
"use strict";
const token = new URLSearchParams(location.search).get("token");
const auth = token ? {"Authorization": "Bearer " + token} : {};
const $ = (id) => document.getElementById(id);
const COLUMNS = ["seat", "state", "film", "position", "error_ms", "headset_on", "dropped", "last_seen_s"];
function text(v) {
  if (v === null || v === undefined) return "\\u2014";
  if (typeof v === "boolean") return v ? "on" : "off";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
function fillSeats(seats) {
  const body = $("seatrows");
  body.replaceChildren();
  const chosen = $("target").value;
  const options = [["", "every seat"]].concat(seats.map((s) => [s.seat, s.seat]));
  const shown = Array.from($("target").options, (o) => o.value);
  if (shown.join("\\n") !== options.map(([v]) => v).join("\\n")) {  // (only when the seats change: a choice stays put)
    $("target").replaceChildren(...options.map(([value, label]) => {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = label;
      return o;
    }));
    $("target").value = options.some(([v]) => v === chosen) ? chosen : "";
  }
  for (const s of seats) {
    const row = body.insertRow();
    row.dataset.seat = s.seat;
    if (s.state === "lost") row.className = "lost";
    for (const key of COLUMNS) row.insertCell().textContent = text(s[key]);
  }
  $("count").textContent = seats.length + (seats.length === 1 ? " seat" : " seats");
}
async function poll() {
  try {
    const r = await fetch("/api/status", {headers: auth, cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    const s = await r.json();
    $("conn").textContent = "connected; broker " + s.broker;
    $("state").textContent = text(s.state);
    $("item").textContent = s.item ? "#" + s.item.number + " " + s.item.title : "";
    $("position").textContent = s.position === null ? "" : s.position.toFixed(1) + " / " + s.duration.toFixed(1) + " s";
    fillSeats(s.seats || []);
  } catch (e) {
    $("conn").textContent = "no answer from the conductor (" + e.message + ")";
  }
}
async function send(command, extra) {
  const body = Object.assign({command: command}, extra || {});
  if ($("target").value) body.seat = $("target").value;
  try {
    const r = await fetch("/api/command", {
      method: "POST",
      headers: Object.assign({"Content-Type": "application/json"}, auth),
      body: JSON.stringify(body),
    });
    const answer = await r.json().catch(() => ({}));
    $("msg").textContent = r.ok ? "sent: " + command + (body.seat ? " to " + body.seat : "") : "refused: " + (answer.error || r.status);
  } catch (e) {
    $("msg").textContent = "not sent: " + e.message;
  }
  poll();
}
for (const b of document.querySelectorAll("button[data-command]")) {
  b.addEventListener("click", () => send(b.dataset.command));
}
$("seekform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  send("seek", {position: parseFloat($("seconds").value)});
});
$("loadform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  send("load", {item: parseInt($("number").value, 10)});
});
poll();
setInterval(poll, 1000);
"""

PAGE = page("vrplayer screening room", _STYLE, """<h1>vrplayer screening room</h1>
<div id="conn">connecting…</div>
<div id="state"></div>
<div id="item"></div>
<div id="position"></div>
<div id="msg" role="status"></div>
<p><label for="target">Commands go to </label><select id="target"><option value="">every seat</option></select></p>
<div class="buttons">
<button data-command="play">Play</button>
<button data-command="pause">Pause</button>
<button data-command="previous">&#9198; Previous</button>
<button data-command="next">Next &#9197;</button>
<button data-command="recenter">Recenter</button>
<button data-command="restart" class="other">Restart</button>
</div>
<form id="seekform"><input id="seconds" type="number" min="0" step="0.1" inputmode="decimal" placeholder="s" required>
<button type="submit">Seek</button></form>
<form id="loadform"><input id="number" type="number" min="1" inputmode="numeric" placeholder="#" required>
<button type="submit">Load item</button></form>
<h1 id="count"></h1>
<div class="wide"><table id="seats"><thead><tr><th>seat</th><th>state</th><th>film</th><th>position</th><th>error ms</th>
<th>headset</th><th>dropped</th><th>seen s ago</th></tr></thead><tbody id="seatrows"></tbody></table></div>
""", _SCRIPT)

PAGE_CSP = page_csp(_SCRIPT, _STYLE)
