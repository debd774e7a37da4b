/* PSCC floor client: one WebSocket per console, snapshot + ordered events, self-healing.
 *
 * Modules register with PSCCFloor.onSnapshot(fn) and PSCCFloor.on(type, fn) (type may end in ".*").
 * The client tracks the last sequence number it applied; a message whose `prev` (default seq-1)
 * differs means something was missed, so it asks the server to resume from its last number. A
 * heartbeat that does not arrive in time, or a closed socket, reconnects with backoff and resumes.
 */
(function () {
  "use strict";
  const root = document.getElementById("floor");
  const state = { lastSeq: null, socket: null, backoff: 500, timer: null, connected: false, snapshot: null };
  const handlers = {};
  const snapshotHandlers = [];
  const stateHandlers = [];
  const heartbeatMs = (parseFloat(root ? root.dataset.heartbeat : "10") || 10) * 1000;

  function emit(type, msg) {
    const exact = handlers[type] || [];
    const prefix = handlers[type.split(".")[0] + ".*"] || [];
    const all = handlers["*"] || [];
    for (const fn of [...exact, ...prefix, ...all]) {
      try { fn(msg.data, msg); } catch (e) { console.error("handler for", type, e); }
    }
  }

  function setState(name, detail) {
    const el = document.getElementById("conn-state");
    if (el) {
      el.dataset.state = name;
      el.className = "conn conn-" + name;
      el.textContent = { connected: "● Connected", connecting: "● Connecting…", reconnecting: "● Reconnecting…", offline: "● Offline" }[name] || name;
    }
    const d = document.getElementById("conn-detail");
    if (d) d.textContent = detail || "";
    for (const fn of stateHandlers) fn(name);
  }

  function setSeq(seq) {
    state.lastSeq = seq;
    const el = document.getElementById("last-seq");
    if (el) el.textContent = String(seq);
    if (root) root.dataset.lastSeq = String(seq);
  }

  function armWatchdog() {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      setState("reconnecting", "no heartbeat from the server");
      try { state.socket.close(); } catch (e) { /* already closed */ }
    }, heartbeatMs * 2.5);
  }

  function send(obj) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(obj));
  }

  function onMessage(ev) {
    armWatchdog();
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    if (msg.type === "snapshot") {
      state.snapshot = msg.data;
      setSeq(msg.seq);
      for (const fn of snapshotHandlers) { try { fn(msg.data, msg.seq); } catch (e) { console.error(e); } }
      return;
    }
    if (msg.type === "heartbeat" || msg.type === "pong") {
      if (state.lastSeq !== null && msg.head > state.lastSeq) send({ type: "resume", after: state.lastSeq });
      return;
    }
    if (msg.type === "error") { console.warn("floor:", msg.error); return; }
    if (typeof msg.seq !== "number") return;
    if (state.lastSeq !== null && msg.seq <= state.lastSeq) return; // already applied
    const prev = typeof msg.prev === "number" ? msg.prev : msg.seq - 1;
    if (state.lastSeq !== null && prev !== state.lastSeq) {
      send({ type: "resume", after: state.lastSeq });
      return;
    }
    setSeq(msg.seq);
    emit(msg.type, msg);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const path = (root && root.dataset.wsPath) || "/ws/floor/";
    setState(state.lastSeq === null ? "connecting" : "reconnecting");
    const query = state.lastSeq === null ? "" : "?after=" + state.lastSeq;
    const ws = new WebSocket(scheme + location.host + path + query);
    state.socket = ws;
    ws.onopen = () => {
      state.backoff = 500;
      state.connected = true;
      setState("connected");
      armWatchdog();
      // A first connection gets a snapshot; a reconnection (?after=N) gets what it missed.
    };
    ws.onmessage = onMessage;
    ws.onclose = (ev) => {
      state.connected = false;
      clearTimeout(state.timer);
      if (ev.code === 4401 || ev.code === 4403) { setState("offline", "signed out — reload to sign in"); return; }
      setState("reconnecting", "retrying in " + Math.round(state.backoff / 1000) + " s");
      setTimeout(connect, state.backoff);
      state.backoff = Math.min(state.backoff * 2, 10000);
    };
    ws.onerror = () => { /* onclose follows */ };
  }

  window.PSCCFloor = {
    on(type, fn) { (handlers[type] = handlers[type] || []).push(fn); },
    onSnapshot(fn) { snapshotHandlers.push(fn); if (state.snapshot) fn(state.snapshot, state.lastSeq); },
    onState(fn) { stateHandlers.push(fn); },
    get lastSeq() { return state.lastSeq; },
    get snapshot() { return state.snapshot; },
    send,
    csrf() { const m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; },
    async api(method, url, body) {
      const res = await fetch(url, {
        method, credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf(), "Accept": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let data = null;
      try { data = await res.json(); } catch (e) { data = null; }
      if (!res.ok) {
        const err = new Error((data && data.error) || ("HTTP " + res.status));
        err.status = res.status; err.data = data; throw err;
      }
      return data;
    },
  };
  if (root) connect();
})();
