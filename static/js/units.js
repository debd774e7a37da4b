/* The unit status board: grouped by agency, filterable, one row per unit keyed by its id, patched
 * in place from `unit.*` floor events. Keys on a focused unit row change its status.
 */
(function () {
  "use strict";
  const F = window.PSCCFloor;
  const board = document.getElementById("unit-board");
  if (!F || !board) return;
  const $ = (id) => document.getElementById(id);
  const units = {};
  const LABEL = { available: "Available", dispatched: "Dispatched", en_route: "En route", on_scene: "On scene",
    transporting: "Transporting", at_hospital: "At hospital", out_of_service: "Out of service", off_duty: "Off duty" };
  const ICON = { available: "○", dispatched: "◐", en_route: "▶", on_scene: "■", transporting: "✚", at_hospital: "H",
    out_of_service: "✕", off_duty: "–" };
  const ROW_KEYS = { e: "en_route", o: "on_scene", a: "available", x: "out_of_service", t: "transporting", h: "at_hospital" };

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "dataset") Object.assign(node.dataset, v); else if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function group(agency, name) {
    let section = document.getElementById("ub-agency-" + agency);
    if (!section) {
      section = el("section", { id: "ub-agency-" + agency, class: "ub-group", dataset: { agency } });
      section.appendChild(el("h3", {}, agency + " — " + name));
      const table = el("table");
      table.appendChild(el("tbody", { id: "ub-rows-" + agency }));
      section.appendChild(table);
      const groups = $("ub-groups");
      const after = Array.from(groups.children).find((g) => g.dataset.agency > agency);
      groups.insertBefore(section, after || null);
    }
    return document.getElementById("ub-rows-" + agency);
  }

  function render(unit) {
    units[unit.id] = unit;
    const rows = group(unit.agency, unit.agency_name);
    let row = document.getElementById("unit-" + unit.id);
    if (!row) {
      row = el("tr", { id: "unit-" + unit.id, tabindex: "0", class: "unit-row", dataset: { unitId: unit.id, callSign: unit.call_sign } });
      row.addEventListener("keydown", onRowKey);
      const before = Array.from(rows.children).find((r) => r.dataset.callSign > unit.call_sign);
      rows.insertBefore(row, before || null);
    }
    row.dataset.status = unit.status;
    row.dataset.unitType = unit.unit_type;
    row.dataset.incident = unit.incident_number || "";
    row.className = "unit-row status-" + unit.status + (unit.timer_alert ? " overdue" : "");
    row.innerHTML = "";
    row.appendChild(el("td", { class: "call-sign" }, unit.call_sign));
    row.appendChild(el("td", {}, unit.unit_type.replace("_", " ")));
    row.appendChild(el("td", { class: "unit-status" }, (ICON[unit.status] || "") + " " + (LABEL[unit.status] || unit.status)));
    row.appendChild(el("td", {}, unit.incident_number || ""));
    const alertCell = el("td", { class: "timer" });
    if (unit.timer_alert) {
      alertCell.appendChild(el("strong", {}, "⏰ OVERDUE " + (LABEL[unit.timer_alert.status] || unit.timer_alert.status) + " "));
      const ack = el("button", { type: "button", dataset: { alert: unit.timer_alert.id } }, "Ack (k)");
      ack.addEventListener("click", () => acknowledge(unit.id));
      alertCell.appendChild(ack);
    }
    row.appendChild(alertCell);
    applyFilter(row);
  }

  function applyFilter(row) {
    const text = $("ub-filter").value.trim().toLowerCase();
    const agency = $("ub-agency").value;
    const status = $("ub-status").value;
    const unit = units[row.dataset.unitId];
    const hay = [unit.call_sign, unit.unit_type, unit.status, LABEL[unit.status], unit.incident_number].join(" ").toLowerCase();
    row.hidden = (text && !hay.includes(text)) || (agency && unit.agency !== agency) || (status && unit.status !== status);
  }
  function filterAll() {
    for (const row of board.querySelectorAll(".unit-row")) applyFilter(row);
    for (const section of board.querySelectorAll(".ub-group")) {
      section.hidden = !section.querySelector(".unit-row:not([hidden])");
    }
  }
  for (const id of ["ub-filter", "ub-agency", "ub-status"]) $(id).addEventListener("input", filterAll);

  async function setStatus(unitId, status) {
    try {
      render(await F.api("POST", "/api/v1/units/" + unitId + "/status/", { status }));
    } catch (e) {
      const row = document.getElementById("unit-" + unitId);
      if (row) row.title = e.message;
      alert(e.message); // eslint-disable-line no-alert -- the refusal must be seen
    }
  }
  async function acknowledge(unitId) {
    const unit = units[unitId];
    if (!unit || !unit.timer_alert) return;
    try { render(await F.api("POST", "/api/v1/units/timer-alerts/" + unit.timer_alert.id + "/acknowledge/", {})); }
    catch (e) { alert(e.message); } // eslint-disable-line no-alert
  }
  function onRowKey(ev) {
    const row = ev.currentTarget;
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const visible = () => Array.from(board.querySelectorAll(".unit-row:not([hidden])"));
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      const list = visible();
      const next = list[list.indexOf(row) + (ev.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
      ev.preventDefault(); ev.stopPropagation();
      return;
    }
    if (ev.key === "k") { acknowledge(row.dataset.unitId); ev.preventDefault(); ev.stopPropagation(); return; }
    const status = ROW_KEYS[ev.key];
    if (status) { setStatus(row.dataset.unitId, status); ev.preventDefault(); ev.stopPropagation(); }
  }

  F.onSnapshot((data) => {
    $("ub-groups").innerHTML = "";
    for (const k of Object.keys(units)) delete units[k];
    for (const unit of Object.values(data.units || {})) render(unit);
    filterAll();
  });
  F.on("unit.*", (data) => { if (data && data.id) { render(data); filterAll(); } });

  function keys() {
    PSCCKeys.add("Alt+U", "Unit board: filter (then Tab / ↑ ↓ to a unit)", () => $("ub-filter").focus());
    PSCCKeys.add("On a unit row: e o t h a x k", "en route, on scene, transporting, at hospital, available, out of service, acknowledge timer", () => {});
  }
  if (window.PSCCKeys) keys(); else window.addEventListener("DOMContentLoaded", keys);
})();
