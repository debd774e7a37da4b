/* CAD incidents on the console: create (with address verification, hazards, duplicates), the list,
 * the detail with narrative, and the recommendation + dispatch. Everything is patched in place from
 * floor events; one DOM row per incident keyed by its number. Keyboard first (see PSCCKeys below).
 */
(function () {
  "use strict";
  const F = window.PSCCFloor;
  if (!F || !document.getElementById("incident-list-panel")) return;
  const $ = (id) => document.getElementById(id);
  const incidents = {};
  const state = { selected: null, pick: null, candidates: [], recTimer: null, narrativeIds: new Set() };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function hhmm(iso) { return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—"; }
  const STATUS = { pending: "Pending", dispatched: "Dispatched", en_route: "En route", on_scene: "On scene", closed: "Closed" };

  function overdue(inc) { return Boolean(inc.response_goal_alerted_at) && !inc.first_on_scene_at; }

  // --- the list ----------------------------------------------------------------------------------
  function renderRow(inc) {
    const body = $("incident-rows");
    let row = document.getElementById("incident-" + inc.number);
    if (inc.status === "closed") {
      if (row) row.remove();
      delete incidents[inc.number];
      refreshEmpty();
      return;
    }
    incidents[inc.number] = inc;
    if (!row) {
      row = el("tr", { id: "incident-" + inc.number, tabindex: "0", class: "incident-row", dataset: { number: inc.number } });
      row.addEventListener("click", () => select(inc.number));
      row.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { select(row.dataset.number); ev.preventDefault(); }
        if (ev.key === "ArrowDown" && row.nextElementSibling) { row.nextElementSibling.focus(); ev.preventDefault(); }
        if (ev.key === "ArrowUp" && row.previousElementSibling) { row.previousElementSibling.focus(); ev.preventDefault(); }
      });
      body.appendChild(row);
    }
    row.dataset.status = inc.status;
    row.dataset.priority = inc.priority;
    row.className = "incident-row" + (inc.priority === 1 ? " p1" : "") + (overdue(inc) ? " overdue" : "");
    row.innerHTML = "";
    const flags = [];
    if (inc.hazards && inc.hazards.length) flags.push("⚠ hazard");
    if (overdue(inc)) flags.push("⏰ overdue");
    if (inc.out_of_jurisdiction) flags.push("OOJ " + (inc.jurisdiction_agency || ""));
    if (!inc.location_verified) flags.push("unverified");
    for (const text of ["P" + inc.priority, inc.number, inc.call_type, STATUS[inc.status] || inc.status, inc.location_text || "(no location)",
      inc.units.filter((u) => !u.cleared).map((u) => u.call_sign).join(" "), flags.join(" · ")]) {
      row.appendChild(el("td", {}, text));
    }
    sortRows();
    refreshEmpty();
    if (state.selected === inc.number) renderDetail(inc);
  }
  function sortRows() {
    const body = $("incident-rows");
    const rows = Array.from(body.children);
    rows.sort((a, b) => (+a.dataset.priority - +b.dataset.priority) || a.dataset.number.localeCompare(b.dataset.number));
    rows.forEach((r, i) => { if (body.children[i] !== r) body.appendChild(r); });
  }
  function refreshEmpty() { $("incident-empty").hidden = Object.keys(incidents).length > 0; }

  F.onSnapshot((data) => {
    $("incident-rows").innerHTML = "";
    for (const k of Object.keys(incidents)) delete incidents[k];
    for (const inc of Object.values(data.incidents || {})) renderRow(inc);
    refreshEmpty();
    if (state.selected) select(state.selected);
  });
  F.on("incident.*", (data, msg) => {
    if (msg.type === "incident.narrative") { appendNarrative(data); return; }
    if (data && data.call_type) renderRow(data);
    if (state.selected && data && data.number === state.selected) scheduleRecommend();
  });
  F.on("unit.*", (data) => { if (state.selected && data && data.status) scheduleRecommend(); });

  // --- the detail ----------------------------------------------------------------------------------
  function renderHazards(box, hazards) {
    box.innerHTML = "";
    box.hidden = !hazards || !hazards.length;
    if (box.hidden) return;
    box.appendChild(el("strong", {}, "⚠ PREMISE HAZARDS"));
    const ul = el("ul");
    for (const h of hazards) {
      ul.appendChild(el("li", { class: "hazard", dataset: { kind: h.kind } },
        h.kind_label + ": " + h.text + (h.distance_m ? " (" + h.distance_m + " m away)" : "")));
    }
    box.appendChild(ul);
  }
  function renderDetail(inc) {
    const panel = $("incident-detail");
    panel.dataset.number = inc.number;
    $("id-number").textContent = inc.number;
    $("id-empty").hidden = true;
    $("id-body").hidden = false;
    $("id-type").textContent = inc.call_type + " — " + inc.call_type_name;
    $("id-priority").textContent = "Priority " + inc.priority;
    $("id-status").textContent = (STATUS[inc.status] || inc.status) + (overdue(inc) ? " · ⏰ RESPONSE GOAL PASSED" : "");
    $("id-status").dataset.status = inc.status;
    $("id-location").textContent = (inc.location_text || "(no location)") + (inc.beat ? " · beat " + inc.beat : "") +
      (inc.esn ? " · ESN " + inc.esn : "") + (inc.location_verified ? " · verified" : " · UNVERIFIED");
    const ooj = $("id-jurisdiction");
    ooj.hidden = !inc.out_of_jurisdiction;
    ooj.textContent = inc.out_of_jurisdiction ? "OUT OF JURISDICTION — notify " + (inc.jurisdiction_agency_name || "the neighbouring agency") +
      (inc.jurisdiction_agency_phone ? " (" + inc.jurisdiction_agency_phone + ")" : "") : "";
    $("id-caller").textContent = [inc.caller_name, inc.callback_number].filter(Boolean).join(" · ") +
      (inc.additional_callers && inc.additional_callers.length ? " · +" + inc.additional_callers.length + " caller(s)" : "");
    const t = inc.response_times || {};
    $("id-times").textContent = "Received " + hhmm(inc.received_at) + " · dispatched " + hhmm(inc.first_dispatched_at) +
      " · en route " + hhmm(inc.first_en_route_at) + " · on scene " + hhmm(inc.first_on_scene_at) +
      (t.goal_seconds ? " · goal " + Math.round(t.goal_seconds / 60) + " min" + (t.goal_met === false ? " (missed)" : t.goal_met ? " (met)" : "") : "");
    renderHazards($("id-hazards"), inc.hazards);
    const units = $("id-units");
    units.innerHTML = "";
    for (const u of inc.units) {
      units.appendChild(el("li", { id: "id-unit-" + u.unit_id, dataset: { status: u.status } },
        u.call_sign + " — " + (u.cleared ? "cleared" : u.status.replace("_", " "))));
    }
  }
  function appendNarrative(entry) {
    if (!state.selected || entry.number !== state.selected || state.narrativeIds.has(entry.id)) return;
    state.narrativeIds.add(entry.id);
    $("id-narrative").appendChild(el("li", { id: "narr-" + entry.id }, hhmm(entry.at) + " " + entry.author + ": " + entry.text));
  }
  async function select(number) {
    state.selected = number;
    state.narrativeIds = new Set();
    const inc = incidents[number];
    if (inc) renderDetail(inc);
    try {
      const full = await F.api("GET", "/api/v1/incidents/" + encodeURIComponent(number) + "/");
      if (state.selected !== number) return;
      renderDetail(full);
      $("id-narrative").innerHTML = "";
      for (const n of full.narrative) appendNarrative({ ...n, number });
    } catch (e) { $("id-dispatch-error").textContent = e.message; }
    recommend();
  }
  function scheduleRecommend() { clearTimeout(state.recTimer); state.recTimer = setTimeout(recommend, 150); }
  async function recommend() {
    const number = state.selected;
    if (!number) return;
    let rec;
    try { rec = await F.api("GET", "/api/v1/incidents/" + encodeURIComponent(number) + "/recommendations/"); }
    catch (e) { return; }
    if (state.selected !== number) return;
    const keep = new Set(Array.from(document.querySelectorAll("#id-recommend input:checked")).map((c) => c.value));
    const fresh = !$("id-recommend").dataset.number || $("id-recommend").dataset.number !== number;
    $("id-recommend").dataset.number = number;
    $("id-plan").textContent = rec.plan.length ? "Plan: " + rec.plan.map((l) => l.count + " × " + l.unit_type.replace("_", " ") +
      " (" + l.assigned + " assigned" + (l.short ? ", " + l.short + " short" : "") + ")").join(", ") +
      (rec.satisfied ? " — SATISFIED" : "") : "No response plan for this call type.";
    const list = $("id-recommend");
    list.innerHTML = "";
    for (const u of rec.units) {
      const li = el("li", { id: "rec-" + u.unit_id, dataset: { unitId: u.unit_id, recommended: u.recommended ? "1" : "0" } });
      const box = el("input", { type: "checkbox", value: String(u.unit_id), id: "rec-check-" + u.unit_id });
      box.checked = fresh ? u.recommended : keep.has(String(u.unit_id));
      const label = el("label", { for: "rec-check-" + u.unit_id }, (u.recommended ? "★ " : "") + u.call_sign + " (" + u.agency + ") — " + u.reason);
      li.appendChild(box); li.appendChild(label);
      list.appendChild(li);
    }
  }
  async function dispatchChecked() {
    const number = state.selected;
    const ids = Array.from(document.querySelectorAll("#id-recommend input:checked")).map((c) => +c.value);
    $("id-dispatch-error").textContent = "";
    if (!number) { $("id-dispatch-error").textContent = "Select an incident first."; return; }
    if (!ids.length) { $("id-dispatch-error").textContent = "Check at least one unit."; return; }
    try {
      const inc = await F.api("POST", "/api/v1/incidents/" + encodeURIComponent(number) + "/dispatch/", { unit_ids: ids });
      renderRow(inc);
      $("id-recommend").dataset.number = "";
      recommend();
    } catch (e) { $("id-dispatch-error").textContent = e.message; }
  }
  $("id-dispatch").addEventListener("click", dispatchChecked);
  $("id-narrative-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("id-narrative-text");
    const text = input.value.trim();
    if (!state.selected || !text) return;
    $("id-narrative-error").textContent = "";
    try {
      const entry = await F.api("POST", "/api/v1/incidents/" + encodeURIComponent(state.selected) + "/narrative/", { text });
      appendNarrative({ ...entry, number: state.selected });
      input.value = "";
    } catch (e) { $("id-narrative-error").textContent = e.message; }
  });

  // --- create --------------------------------------------------------------------------------------
  const form = $("incident-create-form");
  function setPick(candidate) {
    state.pick = candidate;
    const s = $("ic-location-state");
    if (candidate) {
      $("ic-location").value = candidate.text;
      s.textContent = "✔ Verified: " + candidate.text + (candidate.esn ? " · ESN " + candidate.esn : "") + (candidate.beat ? " · beat " + candidate.beat : "");
      s.dataset.verified = "1";
      $("ic-candidates").hidden = true;
      check();
    } else {
      s.textContent = "Location not verified.";
      s.dataset.verified = "0";
    }
  }
  async function verify() {
    const q = $("ic-location").value.trim();
    $("ic-error").textContent = "";
    if (!q) { $("ic-location").focus(); return; }
    let res;
    try { res = await F.api("GET", form.dataset.verifyUrl + "?q=" + encodeURIComponent(q)); }
    catch (e) { $("ic-error").textContent = e.message; return; }
    state.candidates = res.candidates;
    const list = $("ic-candidates");
    list.innerHTML = "";
    if (!res.candidates.length) {
      list.hidden = true;
      $("ic-location-state").textContent = "No match in the address table — keep it unverified with a reason, or correct it.";
      $("ic-override").focus();
      return;
    }
    res.candidates.forEach((c, i) => {
      const li = el("li", { tabindex: "0", class: "candidate", dataset: { index: i, community: c.community } },
        (i + 1) + ". " + c.text + (c.esn ? " · ESN " + c.esn : "") + (c.kind === "msag_range" ? " · street range" : "") +
        " · score " + c.score.toFixed(2));
      li.addEventListener("click", () => setPick(c));
      li.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter") { setPick(c); $("ic-caller").focus(); ev.preventDefault(); }
        if (ev.key === "ArrowDown" && li.nextElementSibling) { li.nextElementSibling.focus(); ev.preventDefault(); }
        if (ev.key === "ArrowUp" && li.previousElementSibling) { li.previousElementSibling.focus(); ev.preventDefault(); }
      });
      list.appendChild(li);
    });
    list.hidden = false;
    if (res.candidates.length === 1 || !res.ambiguous) {
      setPick(res.candidates[0]);
    } else {
      $("ic-location-state").textContent = "Ambiguous: choose a candidate (↑ ↓ Enter, or 1–9).";
      list.firstElementChild.focus();
    }
  }
  $("ic-candidates").addEventListener("keydown", (ev) => {
    const n = parseInt(ev.key, 10);
    if (n >= 1 && n <= state.candidates.length) { setPick(state.candidates[n - 1]); $("ic-caller").focus(); ev.preventDefault(); }
  });
  $("ic-location").addEventListener("input", () => { if (state.pick) setPick(null); });
  $("ic-location").addEventListener("keydown", (ev) => { if (ev.key === "Enter") { ev.preventDefault(); verify(); } });
  $("ic-verify").addEventListener("click", verify);
  $("ic-callback").addEventListener("change", check);

  async function check() {
    const params = new URLSearchParams();
    if (state.pick && state.pick.address_id) params.set("address_id", state.pick.address_id);
    else if (state.pick && state.pick.lat !== null) { params.set("lat", state.pick.lat); params.set("lon", state.pick.lon); }
    const cb = $("ic-callback").value.trim();
    if (cb) params.set("callback_number", cb);
    if (![...params.keys()].length) return;
    let res;
    try { res = await F.api("GET", form.dataset.checkUrl + "?" + params.toString()); } catch (e) { return; }
    renderHazards($("ic-hazards"), res.hazards);
    renderDuplicates(res.duplicates);
  }
  function renderDuplicates(duplicates) {
    const box = $("ic-duplicates");
    box.innerHTML = "";
    box.hidden = !duplicates || !duplicates.length;
    if (box.hidden) return;
    box.appendChild(el("strong", {}, "Possible duplicates"));
    const ul = el("ul");
    for (const d of duplicates) {
      const li = el("li", { dataset: { number: d.number } }, d.number + " " + d.call_type + " " + d.location_text + " — " + d.reason + " ");
      const attach = el("button", { type: "button" }, "Attach caller to " + d.number);
      attach.addEventListener("click", () => attachCaller(d.number));
      li.appendChild(attach);
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }
  async function attachCaller(number) {
    try {
      await F.api("POST", "/api/v1/incidents/" + encodeURIComponent(number) + "/callers/", {
        name: $("ic-caller").value.trim(), callback_number: $("ic-callback").value.trim(),
        location_text: $("ic-location").value.trim(), note: $("ic-narrative").value.trim(),
      });
      resetForm();
      select(number);
    } catch (e) { $("ic-error").textContent = e.message; }
  }
  function resetForm() {
    form.reset();
    setPick(null);
    state.candidates = [];
    $("ic-candidates").hidden = true;
    renderHazards($("ic-hazards"), []);
    renderDuplicates([]);
    $("ic-error").textContent = "";
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("ic-error").textContent = "";
    const body = {
      call_type: $("ic-call-type").value,
      caller_name: $("ic-caller").value.trim(),
      callback_number: $("ic-callback").value.trim(),
      narrative: $("ic-narrative").value.trim(),
    };
    if (state.pick && state.pick.address_id) body.address_id = state.pick.address_id;
    else if (state.pick && state.pick.msag_range_id) { body.msag_range_id = state.pick.msag_range_id; body.location_text = state.pick.text; }
    else {
      body.location_text = $("ic-location").value.trim();
      body.location_override_reason = $("ic-override").value.trim();
    }
    try {
      const inc = await F.api("POST", form.dataset.createUrl, body);
      renderRow(inc);
      resetForm();
      select(inc.number);
      if (inc.possible_duplicates && inc.possible_duplicates.length) {
        $("id-dispatch-error").textContent = "Possible duplicate of " + inc.possible_duplicates.map((d) => d.number).join(", ");
      }
    } catch (e) {
      $("ic-error").textContent = e.message;
      const field = e.data && e.data.field;
      const target = { call_type: "ic-call-type", location_override_reason: "ic-override", callback_number: "ic-callback" }[field];
      if (target) $(target).focus();
    }
  });

  // --- keys -------------------------------------------------------------------------------------------
  // console.js (PSCCKeys) loads after the panel scripts: register once the page is parsed.
  function keys() {
    PSCCKeys.add("Alt+N", "New incident: focus the call type", () => $("ic-call-type").focus());
    PSCCKeys.add("Alt+V", "Verify the entered address (candidates: ↑ ↓ Enter or 1–9)", verify);
    PSCCKeys.add("Alt+C", "Create the incident", () => form.requestSubmit());
    PSCCKeys.add("Alt+I", "Incident list (↑ ↓, Enter opens)", () => {
      const row = $("incident-rows").firstElementChild; if (row) row.focus();
    });
    PSCCKeys.add("Alt+R", "Recommended units (Space toggles)", () => {
      const box = document.querySelector("#id-recommend input"); if (box) box.focus();
    });
    PSCCKeys.add("Alt+D", "Dispatch the checked units", dispatchChecked);
    PSCCKeys.add("Alt+M", "Add to the narrative", () => $("id-narrative-text").focus());
  }
  if (window.PSCCKeys) keys(); else window.addEventListener("DOMContentLoaded", keys);
  window.PSCCIncidents = { select, get selected() { return state.selected; } };
})();
