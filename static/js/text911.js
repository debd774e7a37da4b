/* Text to 9-1-1 console panel: the unassigned queue, my active sessions and the conversation.
 *
 * State is rebuilt from the floor snapshot ("text") on every (re)load and patched from `text.*` events,
 * so a conversation is never lost on reload. One DOM node per session and per message, keyed by id.
 * A new session plays the tone (the <audio> element; `data-played` counts the calls to play()).
 * Multimedia content is never shown: the server never sends it, only that it arrived and when.
 */
(function () {
  "use strict";
  const root = document.getElementById("text911");
  if (!root || !window.PSCCFloor) return;
  const API = root.dataset.api;
  const $ = (id) => document.getElementById(id);
  const store = { sessions: {}, messages: {}, quick: [], maxActive: 2, maxRebids: 5, desk: "available",
                  me: root.dataset.me, agencies: [], selected: null, confirmEnd: false };
  const SELECTED_KEY = "pscc.text911.selected";

  function fmtTime(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  }

  function fmtNumber(n) {
    return /^\d{10}$/.test(n || "") ? `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}` : (n || "");
  }

  function playTone() {
    const audio = $("text-tone");
    if (!audio || store.desk !== "available") return;
    audio.dataset.played = String(parseInt(audio.dataset.played || "0", 10) + 1);
    try {
      audio.currentTime = 0;
      const p = audio.play();
      if (p && p.catch) p.catch((e) => { audio.dataset.playError = e.name || "error"; });
    } catch (e) { audio.dataset.playError = e.name || "error"; }
    const alert = $("text-new-alert");
    alert.hidden = false;
    clearTimeout(playTone.timer);
    playTone.timer = setTimeout(() => { alert.hidden = true; }, 8000);
  }

  // --- sessions list ---------------------------------------------------------------------------
  function listFor(s) {
    if (s.state === "unassigned") return $("text-unassigned");
    if (s.state === "active") return s.owner === store.me ? $("text-mine") : $("text-others");
    return s.owner === store.me ? $("text-closed") : null;
  }

  function sessionLabel(s) {
    const state = { unassigned: "UNASSIGNED", active: s.owner === store.me ? "mine" : `with ${s.owner}`,
                    transferred: `transferred to ${s.transferred_to || ""}`, ended: "ended" }[s.state] || s.state;
    return `📱 ${fmtNumber(s.from_number)} · ${fmtTime(s.started_at)} · ${state}` +
      (s.incident ? ` · event ${s.incident}` : "");
  }

  function renderSession(s) {
    const id = "text-session-" + s.id;
    let li = $(id);
    const list = listFor(s);
    if (!list) { if (li) li.remove(); return; }
    if (!li) {
      li = document.createElement("li");
      li.id = id;
      li.tabIndex = 0;
      li.dataset.sessionId = String(s.id);
      li.addEventListener("click", () => select(s.id));
      li.addEventListener("keydown", (ev) => { if (ev.key === "Enter") select(s.id); });
    }
    if (li.parentElement !== list) list.appendChild(li);
    li.dataset.state = s.state;
    li.dataset.owner = s.owner || "";
    li.textContent = sessionLabel(s);
    li.classList.toggle("selected", store.selected === s.id);
    counts();
  }

  function counts() {
    $("text-unassigned-count").textContent = String($("text-unassigned").children.length);
    $("text-mine-count").textContent = String($("text-mine").children.length);
    $("text-max").textContent = String(store.maxActive);
  }

  function orderedSessions() {
    return [...$("text-unassigned").children, ...$("text-mine").children, ...$("text-others").children,
            ...$("text-closed").children].map((li) => parseInt(li.dataset.sessionId, 10));
  }

  // --- conversation ----------------------------------------------------------------------------
  function select(id) {
    store.selected = id;
    store.confirmEnd = false;
    try { sessionStorage.setItem(SELECTED_KEY, String(id)); } catch (e) { /* private mode */ }
    document.querySelectorAll("#text911 .text-list li").forEach((li) => li.classList.toggle("selected", li.dataset.sessionId === String(id)));
    renderConversation();
  }

  function renderMessage(m) {
    if (m.kind === "start") return; // the header shows when the texter started the session
    const ol = $("text-messages");
    const id = "text-msg-" + m.id;
    let li = $(id);
    if (!li) {
      li = document.createElement("li");
      li.id = id;
      li.dataset.id = String(m.id);
      // keep the conversation in message order even when events and answers cross
      const after = [...ol.children].find((x) => parseInt(x.dataset.id, 10) > m.id);
      ol.insertBefore(li, after || null);
    }
    li.className = `${m.direction} ${m.kind}`;
    li.dataset.kind = m.kind;
    li.dataset.direction = m.direction;
    li.dataset.state = m.state;
    li.textContent = "";
    const body = document.createElement("span");
    body.className = "body";
    if (m.kind === "multimedia") body.textContent = `📎 ${m.notice} at ${fmtTime(m.created_at)}`;
    else if (m.kind === "start") body.textContent = "Session started by the texter";
    else if (m.kind === "end") body.textContent = `⏹ End session — final message: ${m.text}`;
    else if (m.kind === "transfer") body.textContent = "↪ Transfer requested";
    else body.textContent = m.text;
    const meta = document.createElement("span");
    meta.className = "meta";
    const who = m.direction === "in" ? "Texter" : (m.author || "PSAP") + (m.quick_number ? ` · quick ${m.quick_number}` : "");
    const state = m.direction === "out" ? ` · ${m.state}${m.state === "pending" && m.attempts ? " (retrying)" : ""}` : "";
    meta.textContent = `${who} · ${fmtTime(m.created_at)}${state}${m.state === "failed" ? " · NOT DELIVERED: " + m.last_error : ""}`;
    li.appendChild(body);
    li.appendChild(meta);
  }

  function renderConversation() {
    const conv = $("text-conversation");
    const s = store.sessions[store.selected];
    $("text-conv").hidden = !s;
    $("text-empty").hidden = !!s;
    conv.dataset.session = s ? String(s.id) : "";
    if (!s) return;
    conv.dataset.state = s.state;
    conv.dataset.mine = s.owner === store.me ? "1" : "0";
    conv.dataset.incident = s.incident || "";
    $("text-conv-head").textContent = `${fmtNumber(s.from_number)} — ${s.state}` +
      (s.owner ? ` (${s.owner})` : "") + (s.incident ? ` — event ${s.incident}` : "") +
      (s.language !== "en" ? ` — language: ${s.language}` : "");
    const t = s.tower || {};
    $("text-tower").textContent = t.lat == null ? "⚠ No cell tower reported. " + (t.label || "") :
      `⚠ ${t.label} Tower ${t.sector || ""}: ${t.lat.toFixed(5)}, ${t.lon.toFixed(5)}`;
    $("text-rebid").textContent = `Rebids ${s.rebid_count} of ${s.rebid_max} (this PSAP)` +
      (s.rebid ? ` — last fix ${s.rebid.lat.toFixed(5)}, ${s.rebid.lon.toFixed(5)} ±${Math.round(s.rebid.uncertainty_m || 0)} m at ${fmtTime(s.rebid.at)} (NOT verified)` : "");
    const v = $("text-verified");
    v.dataset.verified = s.location.verified ? "1" : "0";
    v.textContent = s.location.verified ? `✔ Verified location: ${s.location.text} (by ${s.location.verified_by})` :
      "✖ Location not verified — ask the texter and repeat it back (rules 2, 29).";
    const ol = $("text-messages");
    const want = (store.messages[s.id] || []);
    if (ol.dataset.session !== String(s.id)) { ol.textContent = ""; ol.dataset.session = String(s.id); }
    for (const m of want) renderMessage(m);
    ol.scrollTop = ol.scrollHeight;
    if (!$("text-confirm").hidden && !store.confirmEnd) $("text-confirm").hidden = true;
    $("text-error").textContent = "";
  }

  function renderQuick() {
    const ol = $("text-quick");
    ol.textContent = "";
    for (const q of store.quick) {
      const li = document.createElement("li");
      li.value = q.number;
      li.dataset.number = String(q.number);
      li.textContent = `${q.label}${q.purpose === "final" ? " (sent by End session)" : ""} — Alt+${q.number}`;
      li.title = q.text;
      ol.appendChild(li);
    }
  }

  function renderDesk() {
    const d = $("text-desk");
    d.dataset.status = store.desk;
    d.textContent = { available: "Signed on", break: "On break", signed_off: "Signed off" }[store.desk] || store.desk;
    $("text-desk-toggle").textContent = store.desk === "available" ? "Sign off" : "Sign on";
  }

  function upsertSession(s, { isNew = false } = {}) {
    const known = !!store.sessions[s.id];
    store.sessions[s.id] = s;
    renderSession(s);
    if (store.selected === s.id) renderConversation();
    if (isNew && !known && s.state === "unassigned") playTone();
  }

  function upsertMessage(m) {
    const list = store.messages[m.session_id] = store.messages[m.session_id] || [];
    const i = list.findIndex((x) => x.id === m.id);
    if (i >= 0) list[i] = m; else list.push(m);
    if (store.selected === m.session_id) { renderMessage(m); $("text-messages").scrollTop = $("text-messages").scrollHeight; }
    else if (m.direction === "in") { const li = $("text-session-" + m.session_id); if (li) li.dataset.unread = "1"; }
  }

  // --- snapshot and events ---------------------------------------------------------------------
  PSCCFloor.onSnapshot((data) => {
    const t = (data && data.text) || {};
    store.sessions = {};
    store.messages = {};
    for (const id of ["text-unassigned", "text-mine", "text-others", "text-closed"]) $(id).textContent = "";
    store.quick = t.quick_messages || [];
    store.maxActive = t.max_active || 2;
    store.maxRebids = t.max_rebids || 5;
    store.desk = t.desk || "available";
    store.me = t.me || store.me;
    store.agencies = t.transfer_agencies || [];
    for (const [sid, msgs] of Object.entries(t.messages || {})) store.messages[sid] = msgs;
    for (const s of Object.values(t.sessions || {})) upsertSession(s);
    renderQuick();
    renderDesk();
    let remembered = null;
    try { remembered = parseInt(sessionStorage.getItem(SELECTED_KEY) || "", 10); } catch (e) { /* ignore */ }
    if (remembered && store.sessions[remembered]) select(remembered); else renderConversation();
    root.dataset.ready = "1";
  });

  PSCCFloor.on("text.*", (data, msg) => {
    const type = msg.type;
    if (type === "text.message") return upsertMessage(data);
    if (type.startsWith("text.session.")) return upsertSession(data, { isNew: type === "text.session.started" });
    if (type === "text.desk") { if (data.user === store.me) { store.desk = data.status; renderDesk(); } return; }
    const notices = { "text.sergeant_notified": (d) => `Sergeant notified: no response from text ${fmtNumber(d.session.from_number)} (event ${d.incident})`,
                      "text.callback_requested": (d) => `Voice callback requested by ${d.requesting_unit} for text ${fmtNumber(d.session.from_number)} (approval #${d.approval})`,
                      "text.delivery_failed": (d) => `Text to ${fmtNumber(d.from_number)} NOT delivered: ${d.error}`,
                      "text.unattended": (d) => `${d.user} signed out holding text sessions ${d.sessions.join(", ")}` };
    if (notices[type]) {
      const li = document.createElement("li");
      li.textContent = `${fmtTime(msg.at)} ${notices[type](data)}`;
      $("text-notices").prepend(li);
    }
  });

  // --- actions ---------------------------------------------------------------------------------
  function showError(err) {
    $("text-error").textContent = err && err.message ? `${err.message}${err.status ? ` (${err.status})` : ""}` : String(err);
  }

  async function act(path, body) {
    const s = store.sessions[store.selected];
    if (!s) { showError("Select a session first."); return null; }
    $("text-error").textContent = "";
    try {
      const data = await PSCCFloor.api("POST", `${API}sessions/${s.id}/${path}`, body || {});
      const { messages, ...session } = data;
      upsertSession(session);
      for (const m of messages || []) upsertMessage(m);
      return data;
    } catch (err) { showError(err); throw err; }
  }

  function claimTarget() {
    if (store.selected && store.sessions[store.selected] && store.sessions[store.selected].state === "unassigned") return;
    const first = $("text-unassigned").firstElementChild;
    if (first) select(parseInt(first.dataset.sessionId, 10));
  }

  const actions = {
    claim: async () => { claimTarget(); await act("claim"); $("text-input").focus(); },
    rebid: () => act("rebid"),
    incident: () => act("incident", {}),
    "confirm-address": () => act("confirm-address", {}),
    "no-response": () => act("no-response", { emergency_indicated: false }),
    transfer: () => {
      const sel = $("text-transfer-agency");
      sel.textContent = "";
      for (const a of store.agencies) { const o = document.createElement("option"); o.value = a.code; o.textContent = `${a.code} — ${a.name}`; sel.appendChild(o); }
      $("text-transfer-dialog").showModal();
      sel.focus();
    },
    end: async () => {
      const confirm = $("text-confirm");
      try {
        await act("end", store.confirmEnd ? { force: true, force_reason: "Confirmed at the console before a unit arrived" } : {});
        store.confirmEnd = false;
        confirm.hidden = true;
      } catch (err) {
        if (err.status === 409 && err.data && err.data.code === "no_unit_on_scene") {
          store.confirmEnd = true;
          confirm.hidden = false;
          confirm.textContent = "No unit is on scene yet (rule 11). Press Alt+x again to end anyway — this is recorded.";
          $("text-error").textContent = "";
        }
      }
    },
  };

  document.querySelectorAll("#text-actions button[data-action]").forEach((b) => {
    b.addEventListener("click", () => actions[b.dataset.action]().catch(() => {}));
  });

  $("text-send-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("text-input");
    const text = input.value.trim();
    if (!text) return;
    try { await act("messages", { text }); input.value = ""; saveDraft(); } catch (e) { /* shown */ }
  });

  $("text-verify-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("text-location-input");
    if (!input.value.trim()) return;
    try { await act("verify-location", { location_text: input.value.trim() }); input.value = ""; } catch (e) { /* shown */ }
  });

  $("text-transfer-form").addEventListener("submit", async () => {
    try { await act("transfer", { agency: $("text-transfer-agency").value }); } catch (e) { /* shown */ }
  });
  $("text-transfer-cancel").addEventListener("click", () => $("text-transfer-dialog").close());

  // Drafts survive a reload too.
  function saveDraft() { try { sessionStorage.setItem("pscc.text911.draft", $("text-input").value); } catch (e) { /* ignore */ } }
  $("text-input").addEventListener("input", saveDraft);
  try { $("text-input").value = sessionStorage.getItem("pscc.text911.draft") || ""; } catch (e) { /* ignore */ }

  function lastInboundText() {
    const msgs = store.messages[store.selected] || [];
    for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].direction === "in" && msgs[i].kind === "text") return msgs[i].text;
    return "";
  }

  function move(delta) {
    const ids = orderedSessions();
    if (!ids.length) return;
    const i = ids.indexOf(store.selected);
    select(ids[(i + delta + ids.length) % ids.length]);
    const li = $("text-session-" + store.selected);
    if (li) { li.dataset.unread = "0"; li.focus(); }
  }

  // --- sign-on, breaks, sign-out with a relief --------------------------------------------------
  let pendingDesk = null;
  function mySessions() { return Object.values(store.sessions).filter((s) => s.state === "active" && s.owner === store.me); }

  async function setDesk(status, relief, briefing) {
    const data = await PSCCFloor.api("POST", `${API}desk`, { status, relief: relief || "", briefing: briefing || "" });
    store.desk = data.desk;
    renderDesk();
  }

  function askRelief(status, then) {
    pendingDesk = { status, then };
    $("text-handover-title").textContent = status === "break" ? "Going on break: hand over your text sessions" : "Signing off: hand over your text sessions";
    $("text-handover-error").textContent = "";
    $("text-handover-dialog").showModal();
    $("text-relief").focus();
  }

  $("text-handover-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await setDesk(pendingDesk.status, $("text-relief").value.trim(), $("text-briefing").value);
      $("text-handover-dialog").close();
      if (pendingDesk.then) pendingDesk.then();
    } catch (err) { $("text-handover-error").textContent = err.message; }
  });
  $("text-handover-cancel").addEventListener("click", () => $("text-handover-dialog").close());

  async function deskChange(status, then) {
    if (status !== "available" && mySessions().length) { askRelief(status, then); return; }
    try { await setDesk(status); if (then) then(); } catch (err) { showError(err); }
  }
  $("text-desk-toggle").addEventListener("click", () => deskChange(store.desk === "available" ? "signed_off" : "available"));
  $("text-break").addEventListener("click", () => deskChange("break"));

  // Signing out of the CAD with active sessions first hands them to a named relief (preparation rule 3).
  const logout = document.querySelector("form.logout");
  if (logout) {
    logout.addEventListener("submit", (ev) => {
      if (!mySessions().length || logout.dataset.handedOver === "1") return;
      ev.preventDefault();
      askRelief("signed_off", () => { logout.dataset.handedOver = "1"; logout.submit(); });
    });
  }

  // --- keys ------------------------------------------------------------------------------------
  if (window.PSCCKeys) {
    const run = (fn) => () => { Promise.resolve(fn()).catch(() => {}); };
    PSCCKeys.add("Alt+j", "Text: next session", () => move(1));
    PSCCKeys.add("Alt+k", "Text: previous session", () => move(-1));
    PSCCKeys.add("Alt+c", "Text: claim (the oldest unassigned if none selected)", run(actions.claim));
    PSCCKeys.add("Alt+m", "Text: type a message", () => $("text-input").focus());
    PSCCKeys.add("Alt+v", "Text: verify the location (pre-filled with the texter's last message)", () => {
      const input = $("text-location-input");
      if (!input.value.trim()) input.value = lastInboundText();
      if (document.activeElement === input) $("text-verify-form").requestSubmit(); else { input.focus(); input.select(); }
    });
    PSCCKeys.add("Alt+r", "Text: rebid the location", run(actions.rebid));
    PSCCKeys.add("Alt+e", "Text: create the 911T event", run(actions.incident));
    PSCCKeys.add("Alt+d", "Text: confirm the dispatch address to the texter", run(actions["confirm-address"]));
    PSCCKeys.add("Alt+t", "Text: transfer", actions.transfer);
    PSCCKeys.add("Alt+n", "Text: no response (911T + sergeant)", run(actions["no-response"]));
    PSCCKeys.add("Alt+x", "Text: end session (sends the final message)", run(actions.end));
    for (let n = 1; n <= 9; n++) {
      PSCCKeys.add(`Alt+${n}`, `Text: quick message ${n}`, run(() => act("messages", { quick_number: n })));
    }
  }
})();
