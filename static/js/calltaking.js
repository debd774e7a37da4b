/* 911 call-taking panel: the ringing queue (with its audible alert), the call at this position
 * (script, ALI, location verification, SOP classification, checklist, callbacks/rebids/searches),
 * and the call's actions: hold/resume, transfer (SOP I.5), misroute report (§V), manual ALI lookup
 * (§VI) and "use this supplemental location" — each a key, a button showing the key, and a form
 * that sends what the REST API needs and shows its 4xx message next to the field at fault.
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
    renderHeld();
  }

  // Calls this position holds while another is at hand: one node each, oldest first.
  function heldHere() {
    return [...calls.values()].filter((c) => c.state === "on_hold" && c.answered_by === me && c.id !== current)
      .sort((a, b) => a.ringing_at.localeCompare(b.ringing_at) || a.id - b.id);
  }
  function renderHeld() {
    const list = $("ct-held");
    const held = heldHere();
    const keep = new Set(held.map((c) => "ct-held-" + c.id));
    for (const li of [...list.children]) if (!keep.has(li.id)) li.remove();
    held.forEach((c, i) => {
      let li = $("ct-held-" + c.id);
      if (!li) li = el("li", { id: "ct-held-" + c.id });
      li.dataset.id = c.id;
      li.textContent = `‖ ON HOLD · ${c.line} · ${c.ani || "no ANI"} · ${c.address_text || ""}`;
      if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
    });
    $("ct-held-box").hidden = held.length === 0;
  }

  function fmt(n, digits) { return n === null || n === undefined ? "?" : Number(n).toFixed(digits); }

  function renderCurrent() {
    const box = $("ct-current");
    const c = current && calls.get(current);
    renderActions();
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
    const sup = latestSupplemental(c);
    $("ct-supplemental").textContent = sup ? `${fmt(sup.lat, 6)}, ${fmt(sup.lon, 6)} ± ${fmt(sup.uncertainty_m, 0)} m (${sup.source})` +
      (sup.used_at ? ` — ✓ USED ${new Date(sup.used_at).toLocaleTimeString()} (logged; the ALI above is kept as delivered)` : "") : "—";
    $("ct-supplemental").dataset.used = sup && sup.used_at ? "yes" : "";
    $("ct-use-supplemental").hidden = !sup;
    $("ct-state").textContent = c.state === "on_hold" ? "‖ ON HOLD — Alt+h resumes" :
      c.state === "transferred" ? "↪ TRANSFERRED" : c.state.toUpperCase().replace("_", " ");
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
    // transfers: append-only, one node per transfer (by its position in the call's list)
    const xl = $("ct-transfers");
    $("ct-transfers-none").hidden = c.transfers.length > 0;
    c.transfers.forEach((t, i) => {
      let li = $(`ct-xfer-${c.id}-${i}`);
      if (!li) { li = el("li", { id: `ct-xfer-${c.id}-${i}`, "data-kind": "transfer" }); xl.appendChild(li); }
      li.textContent = `↪ ${new Date(t.at).toLocaleTimeString()} transferred to ${t.target} — ` +
        `${t.caller_announced ? "announced" : "NOT announced"}; location given “${t.location_given}”; nature given “${t.nature_given}”`;
    });
    for (const li of [...xl.querySelectorAll("li[data-kind='transfer']")]) if (!li.id.startsWith(`ct-xfer-${c.id}-`)) li.remove();
  }

  function latestSupplemental(c) { return c.supplemental_locations.filter((s) => s.found).slice(-1)[0]; }

  // The action buttons follow the call at this position: what the keys would do right now.
  function renderActions() {
    const c = current && calls.get(current);
    const connected = !!c && ["answered", "on_hold"].includes(c.state);
    const held = heldHere().length > 0;
    const hold = $("ct-hold-btn");
    hold.disabled = !connected && !held;
    const resumes = connected ? c.state === "on_hold" : held;
    hold.dataset.action = resumes ? "resume" : "hold";
    hold.firstChild.textContent = !resumes ? "‖ Hold " : connected ? "▶ Resume " : "▶ Resume the held call ";
    renderHeld();
    $("ct-transfer-btn").disabled = !connected;
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
  // Alt+h holds or resumes the call at hand; once that call is no longer connected (released,
  // transferred) it resumes the oldest call held here and brings it to hand.
  async function holdOrResume() {
    const c = current && calls.get(current);
    if (c && ["answered", "on_hold"].includes(c.state)) {
      await act(`/api/v1/calls/${c.id}/${c.state === "on_hold" ? "resume" : "hold"}/`);
      return;
    }
    const held = heldHere()[0];
    if (!held) { showError(new Error(c ? `The call at hand is ${c.state.replace("_", " ")}; nothing is on hold here.` : "No call at this position.")); return; }
    const resumed = await act(`/api/v1/calls/${held.id}/resume/`);
    if (resumed) { current = resumed.id; renderQueue(); renderCurrent(); }
  }
  K.add("Alt+h", "911: hold / resume", holdOrResume);
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
  // --- forms: transfer (SOP I.5), misroute report (§V), manual ALI lookup (§VI) ------------------------
  // Call-taking's Alt+letter keys are all taken (text-to-911 holds the rest), so the forms use
  // Alt+Shift letters that the CAD panels leave free (CAD: N V C I R D M U).
  const dialogs = {};
  function labelOf(input) {
    const label = input && input.closest("label");
    if (!label) return "";
    const text = [...label.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").trim();
    return text || label.textContent.trim();
  }
  function formError(form, errorEl, err) {
    for (const bad of form.querySelectorAll("[aria-invalid='true']")) bad.removeAttribute("aria-invalid");
    if (!err) { errorEl.textContent = ""; return; }
    const field = err.data && err.data.field;
    const input = field ? form.querySelector(`[data-field="${field}"]`) : null;
    let message = err.message || String(err);
    // "target: This field may not be blank." → "Transferred to (name): This field may not be blank."
    if (input && message.startsWith(field + ":")) {
      const said = message.slice(field.length + 1).trim();
      // DRF's generic "may not be blank" / "is required" become what to do about it.
      message = /^This field (may not be blank|is required|may not be null)\.$/.test(said)
        ? `${labelOf(input)}: required — fill it in, then Enter.` : `${labelOf(input)}: ${said}`;
    }
    errorEl.textContent = `⚠ ${message}${input ? "" : err.status ? ` (HTTP ${err.status})` : ""}`;
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }
  function setupDialog(name, { open, submit }) {
    const dialog = $(`ct-${name}-dialog`), form = $(`ct-${name}-form`), errorEl = $(`ct-${name}-error`);
    let returnFocus = null;
    form.addEventListener("keydown", (ev) => {
      // Enter sends from any field (a checkbox too); Esc is the dialog's own cancel.
      if (ev.key !== "Enter" || ev.altKey || ev.target.tagName === "BUTTON" || ev.target.tagName === "TEXTAREA") return;
      ev.preventDefault(); form.requestSubmit();
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (form.dataset.busy) return;
      form.dataset.busy = "1"; formError(form, errorEl, null);
      try {
        await submit(form);
        dialog.close();
      } catch (err) {
        formError(form, errorEl, err);
      } finally { delete form.dataset.busy; }
    });
    form.querySelector("[data-close]").addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { if (returnFocus && returnFocus.isConnected) returnFocus.focus(); });
    dialogs[name] = () => {
      if (dialog.open) return;
      showError(null); formError(form, errorEl, null);
      returnFocus = document.activeElement;
      const first = open(form);
      dialog.showModal();
      (first || form.querySelector("input, select")).focus();
    };
  }
  const post = (url, body) => window.PSCCFloor.api("POST", url, body);

  setupDialog("transfer", {
    open: (form) => {
      const c = calls.get(current);
      form.reset();
      $("ct-transfer-location").value = (c && (c.verified_location_text || c.address_text)) || "";
      return $("ct-transfer-agency");
    },
    submit: async () => {
      const c = calls.get(current);
      if (!c) throw new Error("No call at this position to transfer.");
      const updated = await post(`/api/v1/calls/${c.id}/transfer/`, {
        target: $("ct-transfer-target").value.trim(), target_agency_code: $("ct-transfer-agency").value,
        caller_announced: $("ct-transfer-announced").checked,
        location_given: $("ct-transfer-location").value.trim(), nature_given: $("ct-transfer-nature").value.trim(),
      });
      upsert(updated);
    },
  });
  // Picking an agency names it as the target (still editable: "Converse County 911 dispatcher Smith").
  $("ct-transfer-agency").addEventListener("change", (ev) => {
    const opt = ev.target.selectedOptions[0];
    const target = $("ct-transfer-target");
    if (opt && opt.dataset.name && (!target.value || target.dataset.auto === "1")) { target.value = opt.dataset.name; target.dataset.auto = "1"; }
  });
  $("ct-transfer-target").addEventListener("input", (ev) => { ev.target.dataset.auto = ""; });

  const misroutes = new Map();
  function renderMisroute(id) {
    const m = misroutes.get(id);
    if (!m || !m.mine) return;
    let li = $("ct-mis-" + id);
    if (!li) { li = el("li", { id: "ct-mis-" + id }); $("ct-misroutes").prepend(li); }
    li.dataset.state = m.sent_at ? "sent" : "queued";
    li.textContent = `Misroute report #${id} → ${m.correct_psap}: ` + (m.sent_at
      ? `✓ sent to ${m.sent_to} at ${new Date(m.sent_at).toLocaleTimeString()}`
      : `⏳ queued for the 911 coordinator (${m.sent_to || "configured address"})`);
  }
  function mergeMisroute(id, fields) {
    misroutes.set(id, { ...(misroutes.get(id) || {}), ...fields });
    renderMisroute(id);
  }
  window.PSCCFloor.on("call.misroute_sent", (d) => d && mergeMisroute(d.report, { sent_to: d.sent_to, sent_at: d.sent_at }));
  setupDialog("misroute", {
    open: (form) => {
      const c = current && calls.get(current);
      form.reset();
      $("ct-misroute-received").textContent = c
        ? `Received on ${c.line}: ANI ${c.ani || "none"} · ALI ${c.address_text || "none"}. Note what is correct.`
        : "No call at this position: the report is filed without a call; note the correct ANI or ALI.";
      return $("ct-misroute-psap");
    },
    submit: async () => {
      const body = { correct_psap: $("ct-misroute-psap").value.trim(), correct_ani: $("ct-misroute-ani").value.trim(),
                     correct_ali: $("ct-misroute-ali").value.trim(), notes: $("ct-misroute-notes").value.trim() };
      if (current) body.call_id = current;
      const report = await post("/api/v1/misroute-reports/", body);
      mergeMisroute(report.id, { mine: true, correct_psap: body.correct_psap, sent_to: report.sent_to });
    },
  });

  const CONDITIONS = ["requesting_emergency_aid", "caller_gave_number", "emergency_exists", "insufficient_information"];
  const conditionLabel = (name) => { const box = $("ct-cond-" + name); return box ? `“${box.nextElementSibling.textContent.trim()}”` : name; };
  function markConditions(shown) {
    for (const name of CONDITIONS) {
      const box = $("ct-cond-" + name), mark = box.parentElement.querySelector(".cond-mark");
      box.closest("label").dataset.affirmed = shown ? String(box.checked) : "";
      mark.textContent = !shown ? "" : box.checked ? "✓ affirmed" : "✗ NOT affirmed";
    }
  }
  function showLookup(state, text) {
    const box = $("ct-manual-ali-result");
    box.dataset.state = state;
    box.textContent = text;
  }
  setupDialog("manual-ali", {
    open: (form) => {
      const c = current && calls.get(current);
      form.reset(); markConditions(false);
      const admin = c && c.line_kind !== "911";
      $("ct-manual-ali-phone").value = admin ? c.ani || "" : "";
      $("ct-manual-ali-line").value = c ? c.line : "";
      form.dataset.callId = admin ? String(c.id) : "";
      return $("ct-manual-ali-phone");
    },
    submit: async (form) => {
      const body = { phone_number: $("ct-manual-ali-phone").value.trim(), line_code: $("ct-manual-ali-line").value.trim() };
      if (form.dataset.callId) body.call_id = Number(form.dataset.callId);
      for (const name of CONDITIONS) body[name] = $("ct-cond-" + name).checked;
      try {
        const lookup = await post("/api/v1/manual-ali-lookups/", body);
        const r = lookup.result || {};
        const where = r.address_text || (r.ali ? Object.values(r.ali).filter((v) => v !== null && v !== "").join(" ") : "");
        showLookup(r.found ? "found" : "not-found", r.found
          ? `Lookup #${lookup.id} for ${body.phone_number}: ${where}${r.received_at ? ` (ALI of ${new Date(r.received_at).toLocaleString()})` : ""} — logged`
          : `Lookup #${lookup.id} for ${body.phone_number}: no ALI record found — logged`);
      } catch (err) {
        if (err.status === 403 && err.data && err.data.allowed === false) {
          // A refusal is a decision, not a failure: it is logged, and says which condition is missing.
          markConditions(true);
          let reason = err.data.refusal_reason || "refused";
          for (const name of CONDITIONS) reason = reason.split(name).join(conditionLabel(name));
          showLookup("refused", `✗ Lookup #${err.data.id} for ${body.phone_number} REFUSED (logged): ${reason}`);
          const refusal = new Error(`REFUSED (logged): ${reason}`);
          throw refusal;
        }
        throw err;
      }
    },
  });

  const useSupplemental = needCall(async (c) => {
    const sup = latestSupplemental(c);
    if (!sup) { showError(new Error("No supplemental location for this call yet (it is queried on Phase 2 duress calls); the ALI stands.")); return; }
    await act(`/api/v1/supplemental-locations/${sup.id}/use/`);
  });
  const openTransfer = needCall(() => dialogs.transfer());
  K.add("Alt+p", "911: use this supplemental location (logged; the ALI stays as delivered)", useSupplemental);
  K.add("Alt+T", "911: transfer the call (announce; give location and nature)", openTransfer);
  K.add("Alt+W", "911: misroute report (correct ANI/ALI and PSAP) to the 911 coordinator", () => dialogs.misroute());
  K.add("Alt+L", "911: manual ALI lookup for a caller on a 7-digit line (four conditions)", () => dialogs["manual-ali"]());
  const buttons = { hold: holdOrResume, resume: holdOrResume, transfer: openTransfer, misroute: () => dialogs.misroute(),
                    "manual-ali": () => dialogs["manual-ali"](), "use-supplemental": useSupplemental };
  for (const b of panel.querySelectorAll("button[data-action]")) b.addEventListener("click", () => buttons[b.dataset.action]());

  $("ct-correction").addEventListener("keydown", (ev) => {
    if (ev.key !== "Enter" || !current) return;
    ev.preventDefault();
    act(`/api/v1/calls/${current}/verify-location/`, { confirmed: false, corrected_location: ev.target.value.trim() });
  });
  $("ct-disposition").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); nextStep(); } });
  $("ct-assessment").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); classify("duress")(); } });
})();
