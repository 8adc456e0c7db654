// The dashboard: one self-contained page (vanilla JS, inline SVG charts, no build step). It polls
// the viz API (relative paths, so it works behind `outpost dashboard`) and streams tap as NDJSON.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Outpost dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2a44;color:#fff;padding:10px 18px;display:flex;gap:18px;align-items:center}
header h1{font-size:18px;margin:0}header .muted{color:#b8c2d6}
main{padding:14px 18px;display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.5fr);gap:14px}
.scroll{overflow-x:auto}
section{background:#fff;border:1px solid #dde2ea;border-radius:6px;padding:10px 12px}
section.wide{grid-column:1 / span 2}h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;text-align:right;border-bottom:1px solid #eef0f4;white-space:nowrap}
th:first-child,td:first-child,th:nth-child(2),td:nth-child(2),td.l,th.l{text-align:left}
tr.wl{cursor:pointer}tr.wl:hover,tr.sel{background:#eef4ff}
.ok{color:#12804a}.bad{color:#c62828}.warn{color:#b26a00}
svg text{font:11px system-ui,sans-serif}#error{color:#c62828}
.tap{font:12px ui-monospace,monospace;max-height:260px;overflow:auto}
</style></head><body>
<header><h1>Outpost</h1><span class="muted" id="summary">loading…</span><span id="error"></span>
<span style="margin-left:auto">window <select id="window"><option>1m</option><option>10m</option><option value="1h">1h</option></select></span></header>
<main>
<section class="wide"><h2>Workloads</h2>
<table id="workloads"><thead><tr><th>NAMESPACE</th><th>NAME</th><th class="l">KIND</th><th class="l">HEALTH</th><th>MESHED</th><th>SUCCESS</th><th>RPS</th><th>LATENCY_P50</th><th>LATENCY_P95</th><th>LATENCY_P99</th><th>TCP_CONN</th><th>CONNECTIONS/S</th><th>BYTES/S</th></tr></thead><tbody></tbody></table></section>
<section><h2>Mesh traffic (requests + TCP connections / s)</h2><svg id="mesh-chart" data-chart="rps" width="100%" height="160" viewBox="0 0 480 160" preserveAspectRatio="none"></svg></section>
<section><h2>Edges</h2><svg id="edges" width="100%" height="260" viewBox="0 0 480 260"></svg>
<div class="scroll"><table id="edge-table"><thead><tr><th>SRC</th><th>DST</th><th class="l">SECURED</th><th class="l">CLIENT_ID</th><th class="l">SERVER_ID</th></tr></thead><tbody></tbody></table></div></section>
<section class="wide" id="detail" hidden><h2 id="detail-title"></h2>
<div style="display:grid;grid-template-columns:1fr 1fr 1fr;gap:10px">
<div><b>RPS</b><svg id="chart-rps" data-chart="rps" width="100%" height="120" viewBox="0 0 320 120" preserveAspectRatio="none"></svg></div>
<div><b>Success rate</b><svg id="chart-success" data-chart="success" width="100%" height="120" viewBox="0 0 320 120" preserveAspectRatio="none"></svg></div>
<div><b>Latency p95 (ms)</b><svg id="chart-latency" data-chart="latency" width="100%" height="120" viewBox="0 0 320 120" preserveAspectRatio="none"></svg></div></div>
<h2 style="margin-top:10px">Live requests (tap) <button id="tap-toggle">pause</button></h2>
<div class="tap"><table id="tap"><thead><tr><th class="l">TIME</th><th class="l">DIR</th><th class="l">METHOD</th><th class="l">PATH</th><th>STATUS</th><th>LATENCY</th><th class="l">SRC_ID</th><th class="l">TLS</th></tr></thead><tbody></tbody></table></div>
</section>
</main>
<script>
"use strict";
var POLL_MS = 1000, HISTORY = 120;
var state = { rows: [], edges: [], history: {}, mesh: [], selected: null, tap: null, paused: false };
function $(id) { return document.getElementById(id); }
function esc(s) { return String(s == null ? "" : s).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
function pct(v) { return v == null ? "-" : (v * 100).toFixed(2) + "%"; }
function rps(r) { return r.protocol !== "http" ? "-" : r.rps.toFixed(1) + "rps"; }
function cps(r) { return r.tcp ? r.tcp.connectionsPerSec.toFixed(1) + "/s" : "-"; }
function bps(r) { var v = r.tcp ? r.tcp.bytesPerSec : null; return v == null ? "-" : v < 1000 ? Math.round(v) + "B/s" : v < 1e6 ? (v / 1000).toFixed(1) + "kB/s" : (v / 1e6).toFixed(1) + "MB/s"; }
function ms(v) { return v == null ? "-" : (v < 10 ? String(+v.toFixed(1)) : String(Math.round(v))) + "ms"; }
function api(path) {
  return fetch("api/" + path, { headers: { accept: "application/json" } }).then(function (r) {
    if (!r.ok) return r.json().then(function (b) { throw new Error((b.error && b.error.message) || ("HTTP " + r.status)); });
    return r.json();
  });
}
function poll() {
  var w = $("window").value;
  Promise.all([api("stat?resource=ew&all=true&window=" + w), api("edges?all=true&window=" + w)]).then(function (res) {
    $("error").textContent = "";
    state.rows = res[0].rows; state.edges = res[1].rows;
    var now = Date.now(), total = 0;
    state.rows.forEach(function (r) {
      var k = r.namespace + "/" + r.name, h = state.history[k] || (state.history[k] = []);
      h.push({ t: now, rps: r.rps, success: r.successRate, latency: r.latencyP95 });
      if (h.length > HISTORY) h.shift();
      total += r.rps;
    });
    state.mesh.push({ t: now, rps: total }); if (state.mesh.length > HISTORY) state.mesh.shift();
    render();
  }).catch(function (e) { $("error").textContent = "viz API: " + e.message; });
}
function render() {
  var meshed = state.rows.filter(function (r) { return r.meshed.split("/")[0] !== "0"; }).length;
  $("summary").textContent = state.rows.length + " workloads, " + meshed + " meshed, " + state.edges.length + " edges";
  var body = state.rows.map(function (r) {
    var k = r.namespace + "/" + r.name, sr = r.successRate;
    var cls = sr == null ? "" : sr >= 0.95 ? "ok" : sr >= 0.8 ? "warn" : "bad";
    var hcls = r.health === "Ready" ? "ok" : r.health === "NotReady" ? "bad" : "warn";
    return '<tr class="wl' + (state.selected === k ? " sel" : "") + '" data-key="' + esc(k) + '"><td>' + esc(r.namespace) + "</td><td>" + esc(r.name) + '</td><td class="l">' + esc(r.kind) +
      '</td><td class="l ' + hcls + '">' + esc(r.health || "-") + "</td><td>" + esc(r.meshed) + '</td><td class="' + cls + '" data-col="success">' + pct(sr) + '</td><td data-col="rps">' + rps(r) +
      '</td><td data-col="p50">' + ms(r.latencyP50) + '</td><td data-col="p95">' + ms(r.latencyP95) + '</td><td data-col="p99">' + ms(r.latencyP99) + "</td><td>" + r.tcpConnections + '</td><td data-col="cps">' + cps(r) + '</td><td data-col="bps">' + bps(r) + "</td></tr>";
  }).join("");
  $("workloads").tBodies[0].innerHTML = body;
  Array.prototype.forEach.call(document.querySelectorAll("tr.wl"), function (tr) { tr.onclick = function () { select(tr.getAttribute("data-key")); }; });
  chart($("mesh-chart"), state.mesh.map(function (p) { return p.rps; }), "#2f6fdf", 480, 160);
  renderEdges();
  if (state.selected) {
    var h = state.history[state.selected] || [];
    chart($("chart-rps"), h.map(function (p) { return p.rps; }), "#2f6fdf", 320, 120);
    chart($("chart-success"), h.map(function (p) { return p.success == null ? null : p.success * 100; }), "#12804a", 320, 120, 100);
    chart($("chart-latency"), h.map(function (p) { return p.latency; }), "#b26a00", 320, 120);
  }
}
function chart(svg, values, color, w, hgt, fixedMax) {
  var pts = values.filter(function (v) { return v != null; });
  var max = fixedMax || Math.max.apply(null, pts.concat([1])) * 1.15;
  var grid = "";
  for (var g = 1; g < 4; g++) grid += '<line x1="0" x2="' + w + '" y1="' + (hgt * g / 4) + '" y2="' + (hgt * g / 4) + '" stroke="#e4e8ef"/>';
  // Points spread over the width (a sparkline of the last HISTORY polls).
  var step = w / Math.max(1, values.length - 1), path = "", area = "";
  values.forEach(function (v, i) {
    if (v == null) return;
    var x = i * step, y = hgt - 4 - (v / max) * (hgt - 8);
    path += (path ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1) + " ";
  });
  if (path) { var first = path.split(" ")[0].slice(1); area = '<path d="' + path + "L" + w + " " + hgt + " L" + first + " " + hgt + ' Z" fill="' + color + '" fill-opacity="0.18"/>'; }
  var last = pts.length ? pts[pts.length - 1] : null;
  svg.innerHTML = grid + area + (path ? '<path d="' + path + '" fill="none" stroke="' + color + '" stroke-width="2.5"/>' : "") +
    '<text x="4" y="12" fill="#5a6478">max ' + (+max.toFixed(1)) + "</text>" + (last != null ? '<text x="' + (w - 4) + '" y="12" text-anchor="end" fill="' + color + '">' + (+last.toFixed(2)) + "</text>" : "");
}
function renderEdges() {
  var names = [], idx = {};
  function node(ns, n) { var k = ns + "/" + n; if (!(k in idx)) { idx[k] = names.length; names.push(k); } return idx[k]; }
  state.rows.forEach(function (r) { node(r.namespace, r.name); });
  state.edges.forEach(function (e) { node(e.srcNamespace, e.src); node(e.dstNamespace, e.dst); });
  var cx = 240, cy = 130, R = Math.min(100, 30 + names.length * 12), pos = names.map(function (_, i) {
    var a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, names.length);
    return [cx + R * Math.cos(a), cy + R * Math.sin(a)];
  });
  var out = '<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#5a6478"/></marker></defs>';
  state.edges.forEach(function (e) {
    var a = pos[idx[e.srcNamespace + "/" + e.src]], b = pos[idx[e.dstNamespace + "/" + e.dst]];
    var color = e.secured ? "#12804a" : "#c62828";
    if (a === b) {
      // A workload calling itself (e.g. through its own Service): a loop above the node.
      out += '<path class="edge" data-secured="' + e.secured + '" d="M' + (a[0] - 6) + " " + (a[1] - 8) + " C" + (a[0] - 30) + " " + (a[1] - 50) + " " + (a[0] + 30) + " " + (a[1] - 50) + " " + (a[0] + 6) + " " + (a[1] - 8) + '" fill="none" stroke="' + color + '" stroke-width="2.5"' + (e.secured ? "" : ' stroke-dasharray="6 4"') + "/>";
      out += '<text x="' + a[0] + '" y="' + (a[1] - 44) + '" text-anchor="middle" fill="' + color + '">' + (e.secured ? "mTLS" : "plaintext") + "</text>";
      return;
    }
    out += '<line class="edge" data-secured="' + e.secured + '" x1="' + a[0] + '" y1="' + a[1] + '" x2="' + b[0] + '" y2="' + b[1] + '" stroke="' + color + '" stroke-width="2.5"' + (e.secured ? "" : ' stroke-dasharray="6 4"') + ' marker-end="url(#arrow)"/>';
    out += '<text x="' + ((a[0] + b[0]) / 2) + '" y="' + ((a[1] + b[1]) / 2 - 4) + '" text-anchor="middle" fill="' + color + '">' + (e.secured ? "mTLS" : "plaintext") + "</text>";
  });
  names.forEach(function (k, i) {
    out += '<circle cx="' + pos[i][0] + '" cy="' + pos[i][1] + '" r="9" fill="#2f6fdf"/><text x="' + pos[i][0] + '" y="' + (pos[i][1] + 22) + '" text-anchor="middle">' + esc(k.split("/")[1]) + "</text>";
  });
  $("edges").innerHTML = out;
  $("edge-table").tBodies[0].innerHTML = state.edges.map(function (e) {
    return "<tr><td>" + esc(e.src) + "</td><td>" + esc(e.dst) + '</td><td class="l ' + (e.secured ? "ok" : "bad") + '">' + (e.secured ? "√" : "×") + '</td><td class="l">' + esc(e.clientId || "-") + '</td><td class="l">' + esc(e.serverId || "-") + "</td></tr>";
  }).join("");
}
function select(key) {
  state.selected = key;
  $("detail").hidden = false;
  $("detail-title").textContent = "externalworkload/" + key.split("/")[1] + " in " + key.split("/")[0];
  $("tap").tBodies[0].innerHTML = "";
  render();
  startTap(key);
}
function startTap(key) {
  if (state.tap) state.tap.abort();
  var ctrl = new AbortController(); state.tap = ctrl;
  var parts = key.split("/");
  fetch("api/tap?resource=ew/" + encodeURIComponent(parts[1]) + "&namespace=" + encodeURIComponent(parts[0]), { signal: ctrl.signal }).then(function (res) {
    var reader = res.body.getReader(), dec = new TextDecoder(), buf = "";
    function pump() {
      return reader.read().then(function (r) {
        if (r.done) return;
        buf += dec.decode(r.value, { stream: true });
        var nl;
        while ((nl = buf.indexOf("\\n")) >= 0) { var line = buf.slice(0, nl); buf = buf.slice(nl + 1); if (line) onTap(JSON.parse(line)); }
        return pump();
      });
    }
    return pump();
  }).catch(function () {});
}
function onTap(m) {
  if (!m.event || state.paused) return;
  var e = m.event, tb = $("tap").tBodies[0], tr = document.createElement("tr");
  tr.innerHTML = '<td class="l">' + new Date(e.timestampMs).toLocaleTimeString() + '</td><td class="l">' + esc(e.direction) + '</td><td class="l">' + esc(e.method) + '</td><td class="l">' + esc(e.path) +
    '</td><td class="' + (e.status >= 500 || (e.grpcStatus !== undefined && e.grpcStatus !== 0) ? "bad" : "ok") + '">' + e.status + (e.grpcStatus !== undefined ? " grpc-status=" + e.grpcStatus : "") + "</td><td>" + ms(e.latencyMs) + '</td><td class="l">' + esc(e.sourceIdentity || "-") + '</td><td class="l">' + (e.tls ? "√" : "×") + "</td>";
  tb.insertBefore(tr, tb.firstChild);
  while (tb.rows.length > 50) tb.deleteRow(tb.rows.length - 1);
}
$("tap-toggle").onclick = function () { state.paused = !state.paused; this.textContent = state.paused ? "resume" : "pause"; };
$("window").onchange = poll;
poll();
setInterval(poll, POLL_MS);
</script></body></html>
`;
