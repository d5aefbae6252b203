"""The staff's control page: one static HTML page for a phone, with its inline style and script, and the Content
Security Policy that lets only those run. It holds no status: the script fetches /api/status every second and
puts each value on the page with textContent, so whatever a film title holds never becomes markup."""

from __future__ import annotations

import base64
import hashlib

_STYLE = """
body{font-family:system-ui,sans-serif;background:#111;color:#eee;margin:0 auto;padding:1rem;max-width:40rem}
h1{font-size:1.2rem;margin:0 0 .5rem}
#state{font-size:1.8rem;font-weight:bold;min-height:2.2rem}
#item{font-size:1.2rem;min-height:1.5rem}
#conn{color:#aaa}
#msg{min-height:1.5em;color:#fc6}
.buttons{display:grid;grid-template-columns:1fr 1fr;gap:.6rem;margin:1rem 0}
button{font-size:1.3rem;padding:1.1rem .5rem;border:0;border-radius:.6rem;background:#2a6;color:#fff}
button.other{background:#446}
form{display:flex;gap:.6rem;margin-bottom:1rem}
input{font-size:1.3rem;width:6rem;padding:.5rem;border-radius:.4rem;border:0}
form button{flex:1}
table{width:100%;border-collapse:collapse}
td{padding:.35rem;border-bottom:1px solid #333;vertical-align:top;overflow-wrap:anywhere;white-space:pre-line}
td:first-child{color:#aaa;width:35%}
"""

# Status values are put on the page only with textContent: whatever a film title holds, it never becomes HTML.
_SCRIPT = """
"use strict";
const token = new URLSearchParams(location.search).get("token");
const auth = token ? {"Authorization": "Bearer " + token} : {};
const $ = (id) => document.getElementById(id);
function text(v) {
  if (v === null || v === undefined) return "\\u2014";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
function downloadsText(list) {
  // One line per film fetched ahead: "title: fetching 45 % 3.2 MB/s", or why it failed.
  return list.map((d) => (d.title || d.url) + ": " + d.state + (d.percent !== null ? " " + d.percent + " %" : "")
    + (d.state === "fetching" && d.rate_bps ? " " + (d.rate_bps / 1e6).toFixed(1) + " MB/s" : "")
    + (d.error ? " (" + d.error + ")" : "")).join("\n");
}
function itemText(item) {
  if (item && typeof item === "object" && (item.number !== undefined || item.title !== undefined)) {
    return ((item.number !== undefined ? "#" + item.number + " " : "") + (item.title || "")).trim();
  }
  return item === undefined ? "" : text(item);
}
async function poll() {
  try {
    const r = await fetch("/api/status", {headers: auth, cache: "no-store"});
    if (!r.ok) throw new Error("HTTP " + r.status);
    const s = await r.json();
    $("conn").textContent = "connected";
    $("state").textContent = text(s.state);
    $("item").textContent = itemText(s.item);
    const table = $("fields");
    table.replaceChildren();
    for (const [key, value] of Object.entries(s)) {
      const row = table.insertRow();
      row.insertCell().textContent = key;
      row.insertCell().textContent = key === "downloads" && Array.isArray(value) ? downloadsText(value) : text(value);
    }
  } catch (e) {
    $("conn").textContent = "no answer from the player (" + e.message + ")";
  }
}
async function send(command, extra) {
  try {
    const r = await fetch("/api/command", {
      method: "POST",
      headers: Object.assign({"Content-Type": "application/json"}, auth),
      body: JSON.stringify(Object.assign({command: command}, extra || {})),
    });
    const body = await r.json().catch(() => ({}));
    $("msg").textContent = r.ok ? "sent: " + command : "refused: " + (body.error || r.status);
  } catch (e) {
    $("msg").textContent = "not sent: " + e.message;
  }
  poll();
}
for (const b of document.querySelectorAll("button[data-command]")) {
  b.addEventListener("click", () => send(b.dataset.command));
}
$("playform").addEventListener("submit", (ev) => {
  ev.preventDefault();
  send("play", {item: parseInt($("number").value, 10)});
});
poll();
setInterval(poll, 1000);
"""


def page(title: str, style: str, body: str, script: str) -> bytes:
    """A whole page for a phone: its inline style, its body, its inline script (allowed by page_csp's hashes)."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
{body}<script>{script}</script>
</body>
</html>
""".encode()


PAGE = page("vrplayer kiosk", _STYLE, """<h1>vrplayer kiosk</h1>
<div id="conn">connecting…</div>
<div id="state"></div>
<div id="item"></div>
<div id="msg" role="status"></div>
<div class="buttons">
<button data-command="previous">&#9198; Previous</button>
<button data-command="next">Next &#9197;</button>
<button data-command="pause">Pause</button>
<button data-command="resume">Resume</button>
<button data-command="restart">Restart film</button>
<button data-command="recenter">Recenter</button>
<button data-command="reload" class="other">Reload programme</button>
</div>
<form id="playform"><input id="number" type="number" min="1" inputmode="numeric" placeholder="#" required>
<button type="submit">Play item</button></form>
<table id="fields"></table>
""", _SCRIPT)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def page_csp(script: str, style: str) -> str:
    """Only our own inline script and style may run (by hash), and only talk to us: an injection could not execute."""
    return (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; connect-src 'self'; "
            "form-action 'none'; base-uri 'none'; frame-ancestors 'none'")


STYLE = _STYLE  # (the screening room's page wears the same)
PAGE_CSP = page_csp(_SCRIPT, _STYLE)
