/* Supervisor live board: every line, queue, incident, unit, alert and timer, patched from events. */
(function () {
  "use strict";
  const F = window.PSCCFloor;
  const model = { alerts: {}, incidents: {}, units: {}, calls: {}, texts: {}, positions: {}, compliance: null };

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function age(iso) {
    if (!iso) return "";
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    const m = Math.floor(s / 60);
    return m >= 60 ? Math.floor(m / 60) + "h" + String(m % 60).padStart(2, "0") : m + ":" + String(s % 60).padStart(2, "0");
  }
  function upsertRow(tbody, id, cells, cls) {
    let row = tbody.querySelector('[data-id="' + CSS.escape(id) + '"]');
    if (!row) { row = el("tr", { "data-id": id }); tbody.appendChild(row); }
    row.className = cls || "";
    row.innerHTML = "";
    for (const c of cells) {
      const td = el("td");
      if (c && c.timer) { td.className = "timer"; td.dataset.since = c.timer; td.textContent = age(c.timer); }
      else td.textContent = c === null || c === undefined ? "" : String(c);
      row.appendChild(td);
    }
    return row;
  }
  function removeRow(tbody, id) {
    const row = tbody.querySelector('[data-id="' + CSS.escape(id) + '"]');
    if (row) row.remove();
  }

  // -- alerts --------------------------------------------------------------------------------
  function renderAlerts() {
    const list = document.getElementById("alerts");
    list.innerHTML = "";
    const open = Object.values(model.alerts).filter((a) => !a.acknowledged_at).sort((a, b) => a.raised_at.localeCompare(b.raised_at));
    for (const a of open) {
      const li = el("li", { "data-id": String(a.id), class: "alert alert-" + a.severity });
      li.appendChild(el("strong", {}, (a.severity === "critical" ? "⚠ " : "▲ ") + a.kind.replace(/_/g, " ")));
      li.appendChild(document.createTextNode(" " + a.text + " "));
      const t = el("span", { class: "timer", "data-since": a.raised_at }, age(a.raised_at)); li.appendChild(t);
      const b = el("button", { type: "button", class: "ack", "data-alert": String(a.id) }, "Acknowledge");
      b.addEventListener("click", () => acknowledge(a.id));
      li.appendChild(b);
      list.appendChild(li);
    }
    document.getElementById("alert-count").textContent = String(open.length);
  }
  async function acknowledge(id) {
    try { await F.api("POST", "/api/v1/alerts/" + id + "/acknowledge/", {}); }
    catch (e) { window.alert("Could not acknowledge: " + e.message); }
  }

  // -- incidents and units ------------------------------------------------------------------
  function renderIncident(i) {
    const tbody = document.getElementById("incidents");
    if (!i || i.status === "closed") { removeRow(tbody, i.number); return; }
    const goal = i.response_goal_seconds;
    const overdue = goal && !i.first_on_scene_at && (Date.now() - Date.parse(i.received_at)) / 1000 > goal;
    const units = (i.units || []).filter((u) => !u.cleared).map((u) => u.call_sign).join(" ");
    upsertRow(tbody, i.number, [i.number, "P" + i.priority, i.call_type, i.status + (overdue ? " ⏱ past goal" : ""),
      i.location_text, { timer: i.received_at }, units], (i.priority === 1 ? "p1" : "") + (overdue ? " overdue" : ""));
  }
  function renderUnits() {
    const root = document.getElementById("units");
    const byAgency = {};
    for (const u of Object.values(model.units)) (byAgency[u.agency] = byAgency[u.agency] || []).push(u);
    root.innerHTML = "";
    for (const agency of Object.keys(byAgency).sort()) {
      const box = el("div", { class: "agency" });
      box.appendChild(el("h3", {}, agency));
      const ul = el("ul", { class: "plain units" });
      for (const u of byAgency[agency].sort((a, b) => a.call_sign.localeCompare(b.call_sign))) {
        const li = el("li", { "data-unit": String(u.id), class: "unit unit-" + u.status });
        li.textContent = u.call_sign + " " + u.status.replace(/_/g, " ") + (u.incident_number ? " · " + u.incident_number : "") + " ";
        li.appendChild(el("span", { class: "timer", "data-since": u.status_changed_at }, age(u.status_changed_at)));
        ul.appendChild(li);
      }
      box.appendChild(ul);
      root.appendChild(box);
    }
  }

  // -- calls and texts (shapes from the call-taking and text apps; rendered defensively) ------
  function renderCall(c) {
    const tbody = document.getElementById("lines");
    const id = String(c.cpe_call_id || c.id);
    if (["released", "abandoned", "transferred"].includes(c.state) && c.state !== "abandoned") { removeRow(tbody, id); return; }
    const since = c.state === "ringing" ? c.ringing_at : (c.on_hold_at && c.state === "on_hold" ? c.on_hold_at : c.answered_at || c.ringing_at);
    upsertRow(tbody, id, [c.line || c.line_code, c.state, c.ani || "", { timer: since }], c.state === "ringing" ? "ringing" : "");
  }
  function renderText(t) {
    const tbody = document.getElementById("texts");
    const id = String(t.session_id || t.id);
    if (["ended", "transferred"].includes(t.state)) { removeRow(tbody, id); return; }
    upsertRow(tbody, id, [t.from_number || id, t.state, t.owner || "", { timer: t.created_at || t.started_at }], t.state === "unassigned" ? "ringing" : "");
  }

  // -- compliance, positions, pass-down ------------------------------------------------------
  function renderCompliance(c) {
    if (!c) return;
    model.compliance = c;
    const box = document.getElementById("compliance");
    box.classList.remove("muted");
    box.innerHTML = "";
    for (const [label, fig] of Object.entries(c.windows || {})) {
      const p = el("p", { class: "figure", "data-window": label });
      p.textContent = label + ": " + fig.calls + " calls · " + fmt(fig.pct_within_first) + " within " + c.first_seconds + " s (goal " + c.first_goal_pct + "%) · " + fmt(fig.pct_within_second) + " within " + c.second_seconds + " s (goal " + c.second_goal_pct + "%)" + (fig.meets ? " ✓ meets" : " ✗ below standard");
      box.appendChild(p);
    }
    drawChart(c.distribution || []);
  }
  function fmt(v) { return v === null || v === undefined ? "—" : v.toFixed(1) + "%"; }
  function drawChart(buckets) {
    const cv = document.getElementById("answer-chart");
    if (!cv || !cv.getContext) return;
    const ctx = cv.getContext("2d");
    ctx.clearRect(0, 0, cv.width, cv.height);
    const max = Math.max(1, ...buckets.map((b) => b.calls));
    const w = cv.width / Math.max(1, buckets.length);
    buckets.forEach((b, i) => {
      const h = (b.calls / max) * (cv.height - 20);
      const up = b.upper_seconds === null ? Infinity : b.upper_seconds;
      ctx.fillStyle = up <= 15 ? "#3fb950" : up <= 20 ? "#d29922" : "#f85149";
      ctx.fillRect(i * w + 2, cv.height - 14 - h, w - 4, h);
      ctx.fillStyle = "#8b98a5"; ctx.font = "10px sans-serif";
      ctx.fillText(b.label, i * w + 2, cv.height - 2);
    });
    cv.dataset.buckets = JSON.stringify(buckets.map((b) => b.calls));
  }
  function renderPositions() {
    const ul = document.getElementById("positions");
    ul.innerHTML = "";
    for (const p of Object.values(model.positions).sort((a, b) => a.position.localeCompare(b.position))) {
      const li = el("li", { "data-position": p.position }, p.position + " — " + (p.user || "empty") + " ");
      if (p.since) li.appendChild(el("span", { class: "timer", "data-since": p.since }, age(p.since)));
      ul.appendChild(li);
    }
  }
  function addPassdown(e) {
    const ul = document.getElementById("passdown");
    if (ul.querySelector('[data-id="' + e.id + '"]')) return;
    const li = el("li", { "data-id": String(e.id) }, new Date(e.created_at).toLocaleString() + " " + e.author + ": " + e.text);
    ul.prepend(li);
  }
  async function loadPassdown() {
    try { const data = await F.api("GET", "/api/v1/passdown/"); data.entries.slice().reverse().forEach(addPassdown); } catch (e) { /* shown on next event */ }
  }

  F.onSnapshot((data) => {
    model.alerts = {}; for (const a of data.alerts || []) model.alerts[a.id] = a;
    model.units = data.units || {};
    model.positions = data.positions || {};
    document.getElementById("incidents").innerHTML = "";
    for (const i of Object.values(data.incidents || {})) renderIncident(i);
    document.getElementById("lines").innerHTML = "";
    for (const c of Object.values(data.calls || {})) renderCall(c);
    document.getElementById("texts").innerHTML = "";
    const texts = data.text && (data.text.sessions || data.text);
    for (const t of Object.values(texts || {})) if (t && typeof t === "object" && (t.state || t.session_id)) renderText(t);
    renderAlerts(); renderUnits(); renderPositions();
    if (data.compliance) renderCompliance(data.compliance);
  });
  F.on("alert.*", (a) => { model.alerts[a.id] = a; renderAlerts(); });
  F.on("incident.*", (i) => { if (i && i.number && i.status) renderIncident(i); });
  F.on("unit.status", (u) => { if (u && u.id) { model.units[u.id] = u; renderUnits(); } });
  F.on("unit.*", (u) => { if (u && u.id && u.call_sign) { model.units[u.id] = u; renderUnits(); } });
  F.on("call.*", (c) => { if (c && (c.cpe_call_id || c.id) && c.state) renderCall(c); });
  F.on("text.*", (t) => { const s = t && (t.session || t); if (s && (s.session_id || s.id) && s.state) renderText(s); });
  F.on("compliance.*", renderCompliance);
  F.on("position.*", (p) => { model.positions[p.position] = p; renderPositions(); });
  F.on("passdown.added", addPassdown);

  document.getElementById("passdown-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const box = document.getElementById("passdown-text");
    if (!box.value.trim()) return;
    try { await F.api("POST", "/api/v1/passdown/", { text: box.value }); box.value = ""; }
    catch (e) { window.alert("Not saved: " + e.message); }
  });
  window.PSCCKeys && window.PSCCKeys.add("Alt+k", "Acknowledge the oldest open alert", () => {
    const first = document.querySelector("#alerts li[data-id]"); if (first) acknowledge(first.dataset.id);
  });
  window.PSCCKeys && window.PSCCKeys.add("Alt+p", "Write in the pass-down log", () => document.getElementById("passdown-text").focus());
  setInterval(() => { for (const t of document.querySelectorAll(".timer[data-since]")) t.textContent = age(t.dataset.since); }, 1000);
  setInterval(async () => {
    try { const c = await F.api("GET", "/api/v1/compliance/answer-time/"); renderCompliance(c); } catch (e) { /* endpoint optional */ }
  }, 5000);
  loadPassdown();
})();
