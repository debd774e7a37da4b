/* 911 call-taking panel: the ringing queue (with its audible alert), the call at this position
 * (script, ALI, location verification, SOP classification, checklist, callbacks/rebids/searches).
 * State comes from the floor snapshot ("calls") and call.* events carrying the whole call; each
 * call has one DOM node in the queue keyed by its id, patched in place. */
(function () {
  "use strict";
  const panel = document.getElementById("calltaking");
  if (!panel || !window.PSCCFloor) return;
  const $ = (id) => document.getElementById(id);
  const me = panel.dataset.user;
  const calls = new Map();
  let current = null;

  const COS = { RESD: "Residence (landline)", BUSN: "Business (landline)", PAY: "Payphone", WPH1: "Wireless Phase 1",
                WPH2: "Wireless Phase 2", VOIP: "VoIP", WRLS0: "Wireless Phase 0 — no callback" };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function inQueue(c) {
    return c.state === "ringing" || (c.state === "abandoned" && !c.answered_by && !c.sop_path);
  }

  function queueOrder(a, b) {
    const rank = (c) => (c.state === "ringing" ? 0 : 2) + (c.line_kind === "911" ? 0 : 1);
    return rank(a) - rank(b) || a.ringing_at.localeCompare(b.ringing_at) || a.id - b.id;
  }

  function renderQueue() {
    const list = $("ct-queue");
    const queued = [...calls.values()].filter(inQueue).sort(queueOrder);
    const keep = new Set(queued.map((c) => "ct-q-" + c.id));
    for (const li of [...list.children]) if (!keep.has(li.id)) li.remove();
    queued.forEach((c, i) => {
      let li = $("ct-q-" + c.id);
      if (!li) { li = el("li", { id: "ct-q-" + c.id }); }
      li.dataset.id = c.id; li.dataset.state = c.state;
      const icon = c.state === "ringing" ? "🔔 RINGING" : "⚠ ABANDONED";
      li.textContent = `${icon} · ${c.line} (${c.line_kind === "911" ? "911" : "admin"}) · ${c.class_of_service || "—"} · ${c.ani || "no ANI"} · ${c.address_text || ""}`;
      li.className = c.state === "ringing" ? "ringing" : "abandoned";
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    const ringing = queued.filter((c) => c.state === "ringing").length;
    $("ct-ringing-count").textContent = `${ringing} ringing`;
    const audio = $("ct-ring");
    if (ringing > 0 && audio.paused) { audio.play().catch(() => { /* autoplay refused until a key is pressed */ }); }
    if (ringing === 0 && !audio.paused) { audio.pause(); audio.currentTime = 0; }
    panel.dataset.ringing = String(ringing);
  }

  function fmt(n, digits) { return n === null || n === undefined ? "?" : Number(n).toFixed(digits); }

  function renderCurrent() {
    const box = $("ct-current");
    const c = current && calls.get(current);
    if (!c) { box.hidden = true; box.dataset.callId = ""; return; }
    box.hidden = false; box.dataset.callId = c.id; box.dataset.state = c.state;
    $("ct-greeting").textContent = panel.dataset.greeting;
    $("ct-line").textContent = `${c.line} (${c.line_kind})`;
    $("ct-cos").textContent = `${c.class_of_service || "—"} ${COS[c.class_of_service] || ""}`;
    $("ct-callback").textContent = c.callback_possible ? c.ani : `${c.ani || "none"} — no callback possible`;
    $("ct-address").textContent = c.address_text || "—";
    const a = c.ali;
    $("ct-latlon").textContent = a.lat === null ? "—" :
      `${fmt(a.lat, 6)}, ${fmt(a.lon, 6)} ± ${fmt(a.uncertainty_m, 0)} m, ${a.confidence_pct ?? "?"}% confidence` +
      (c.ali_history.length > 1 ? ` (rebid ${c.ali_history.length - 1}×)` : "");
    const sup = c.supplemental_locations.filter((s) => s.found).slice(-1)[0];
    $("ct-supplemental").textContent = sup ? `${fmt(sup.lat, 6)}, ${fmt(sup.lon, 6)} ± ${fmt(sup.uncertainty_m, 0)} m (${sup.source})${sup.used_at ? " — used" : ""}` : "—";
    $("ct-state").textContent = c.state.toUpperCase().replace("_", " ");
    $("ct-incident").textContent = c.incident ? `${c.incident} ${c.incident_call_type} P${c.incident_priority} — ${c.incident_status}` : "—";
    $("ct-incident").dataset.status = c.incident_status || "";
    $("ct-verified").textContent = c.location_verified_at ? (c.location_corrected ? `Corrected: ${c.verified_location_text}` : `Confirmed: ${c.verified_location_text}`) : "";
    // checklist: one node per step, keyed by id
    const ol = $("ct-checklist");
    c.checklist.forEach((s, i) => {
      let li = $("ct-step-" + s.id);
      if (!li) { li = el("li", { id: "ct-step-" + s.id }); }
      li.dataset.key = s.key; li.dataset.state = s.state;
      const mark = s.state === "done" ? "✓" : s.state === "skipped" ? "— n/a" : "☐";
      const who = s.state === "open" ? (s.by_system ? " (system working)" : "") : ` — ${s.done_by} ${s.done_at ? new Date(s.done_at).toLocaleTimeString() : ""}`;
      li.textContent = `${mark} ${s.code} ${s.text}${who}${s.note ? " · " + s.note : ""}`;
      if (ol.children[i] !== li) ol.insertBefore(li, ol.children[i] || null);
    });
    // background work
    const ul = $("ct-work");
    const rows = [];
    c.rebids.forEach((r) => rows.push({ id: "ct-rebid-" + r.id, attrs: { "data-kind": "rebid", "data-state": r.state },
      text: `Rebid: ${r.state}${r.error ? " — " + r.error : ""}` }));
    c.callbacks.forEach((b) => rows.push({ id: "ct-cb-" + b.id, attrs: { "data-kind": "callback", "data-attempt": String(b.attempt), "data-state": b.state },
      text: `Callback ${b.attempt}/${b.of} to ${b.number}: ${b.state}${b.outcome ? " — " + b.outcome.replace("_", " ") : ""}${b.error ? " — " + b.error : ""}` }));
    c.subscriber_searches.forEach((s) => rows.push({ id: "ct-wsp-" + s.id, attrs: { "data-kind": "wsp", "data-state": s.state },
      text: `WSP search: ${s.state} ${s.result_status || ""}${s.subscriber ? " — " + s.subscriber.name + ", " + s.subscriber.street : ""}${s.escalated ? " — ESCALATED" : ""}` }));
    c.supplemental_locations.forEach((s) => rows.push({ id: "ct-sup-" + s.id, attrs: { "data-kind": "supplemental", "data-state": s.state },
      text: `Supplemental location: ${s.state}${s.found === false ? " — none" : ""}` }));
    rows.forEach((r, i) => {
      let li = $(r.id);
      if (!li) li = el("li", { id: r.id });
      for (const [k, v] of Object.entries(r.attrs)) li.setAttribute(k, v);
      li.textContent = r.text;
      if (ul.children[i] !== li) ul.insertBefore(li, ul.children[i] || null);
    });
    while (ul.children.length > rows.length) ul.lastChild.remove();
  }

  function renderRecords(records) {
    const ul = $("ct-records");
    ul.textContent = "";
    if (!records) return;
    for (const i of records.incidents) ul.appendChild(el("li", {}, `Incident ${i.number} ${i.call_type} — ${i.location_text} (${i.status})`));
    for (const c of records.calls) ul.appendChild(el("li", {}, `Call ${new Date(c.ringing_at).toLocaleString()} — ${c.address_text}${c.incident ? " → " + c.incident : ""}`));
    if (!ul.children.length) ul.appendChild(el("li", { class: "muted" }, "No prior calls or incidents with this number."));
  }

  function upsert(call) {
    if (!call || call.cpe_call_id === undefined) return;
    calls.set(call.id, call);
    if (!current && call.answered_by === me && ["answered", "on_hold", "abandoned"].includes(call.state) && call.incident_status !== "closed") current = call.id;
    renderQueue();
    if (call.id === current) renderCurrent();
  }

  // The alert's state is visible (and testable) without reading the audio element.
  $("ct-ring").addEventListener("playing", () => { panel.dataset.alert = "playing"; });
  $("ct-ring").addEventListener("pause", () => { panel.dataset.alert = "silent"; });

  window.PSCCFloor.onSnapshot((data) => {
    calls.clear();
    for (const c of Object.values((data && data.calls) || {})) calls.set(c.id, c);
    renderQueue(); renderCurrent();
  });
  window.PSCCFloor.on("call.*", (data) => upsert(data));

  function showError(e) { $("ct-error").textContent = e ? (e.message || String(e)) : ""; }
  async function act(url, body) {
    showError(null);
    try { const c = await window.PSCCFloor.api("POST", url, body || {}); upsert(c); return c; }
    catch (e) { showError(e); return null; }
  }
  const needCall = (fn) => () => { if (!current) { showError(new Error("No call at this position.")); return; } fn(calls.get(current)); };

  async function answer() {
    const next = [...calls.values()].filter(inQueue).sort(queueOrder)[0];
    if (!next) { showError(new Error("Nothing ringing.")); return; }
    const c = await act(`/api/v1/calls/${next.id}/answer/`, { position: me });
    if (c) { current = c.id; renderCurrent(); renderRecords(c.records); $("ct-ring").pause(); }
  }
  const classify = (path) => needCall(async (c) => {
    const body = { path };
    if (path === "duress") {
      const text = $("ct-assessment").value.trim();
      if (!text) { $("ct-assessment").focus(); showError(new Error("Type your assessment of the duress heard, then Alt+z again.")); return; }
      body.assessment = text; body.duress_code = $("ct-duress-code").value;
    }
    await act(`/api/v1/calls/${c.id}/classify/`, body);
  });
  const nextStep = needCall(async (c) => {
    const step = c.checklist.find((s) => s.state === "open" && !(s.by_system && ["rebid", "callback", "wsp_search", "supplemental", "update_units"].includes(s.key)));
    if (!step) { showError(new Error("No open step to complete.")); return; }
    const body = {};
    if (step.key === "close") {
      const disposition = $("ct-disposition").value.trim();
      if (!disposition) { $("ct-disposition").focus(); showError(new Error("Type the disposition, then Alt+s.")); return; }
      body.disposition = disposition;
    }
    const done = await act(`/api/v1/checklist-steps/${step.id}/complete/`, body);
    if (done && step.key.startsWith("close")) $("ct-disposition").value = "";
  });

  const K = window.PSCCKeys;
  K.add("Alt+a", "911: answer the next ringing call (911 lines first, oldest first)", answer);
  K.add("Alt+h", "911: hold / resume", needCall((c) => act(`/api/v1/calls/${c.id}/${c.state === "on_hold" ? "resume" : "hold"}/`)));
  K.add("Alt+l", "911: release the line", needCall((c) => act(`/api/v1/calls/${c.id}/release/`)));
  K.add("Alt+y", "911: location confirmed with the caller", needCall((c) => act(`/api/v1/calls/${c.id}/verify-location/`, { confirmed: true })));
  K.add("Alt+g", "911: location corrected (type it, then Enter)", needCall(() => $("ct-correction").focus()));
  K.add("Alt+f", "911: TTY attempted, no response", needCall((c) => act(`/api/v1/calls/${c.id}/tty/`, { responded: false })));
  K.add("Alt+o", "911: landline open line → 911O", classify("landline_open_line"));
  K.add("Alt+b", "911: landline hang-up → 911D", classify("landline_hangup"));
  K.add("Alt+i", "911: misdial → 911M", classify("misdial"));
  K.add("Alt+w", "911: wireless, no duress → 911W", classify("wireless_no_duress"));
  K.add("Alt+z", "911: duress → 911W/911S priority 1 (assessment first)", classify("duress"));
  K.add("Alt+q", "911: out of jurisdiction (transfer / notify)", classify("out_of_jurisdiction"));
  K.add("Alt+s", "911: complete the next checklist step", nextStep);
  K.add("Alt+u", "911: rebid (update the Phase 2 location)", needCall((c) => act(`/api/v1/calls/${c.id}/rebid/`)));
  $("ct-correction").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !current) return;
    ev.preventDefault();
    act(`/api/v1/calls/${current}/verify-location/`, { confirmed: false, corrected_location: ev.target.value.trim() });
  });
  $("ct-disposition").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); nextStep(); } });
  $("ct-assessment").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); classify("duress")(); } });
})();
