/* CSV exports with progress: queue the export, poll its progress, then download. */
(function () {
  "use strict";
  const root = document.getElementById("reports");
  function csrf() { const m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; }
  async function call(method, url, body) {
    const res = await fetch(url, { method, credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() }, body: body && JSON.stringify(body) });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
    return data;
  }
  for (const button of document.querySelectorAll("button.export")) {
    button.addEventListener("click", async () => {
      const section = button.closest("section");
      const bar = section.querySelector(".export-progress");
      const state = section.querySelector(".export-state");
      bar.hidden = false; button.disabled = true; state.textContent = "queued…";
      try {
        let status = await call("POST", "/api/v1/reports/exports/", { report: button.dataset.report, start: root.dataset.start, end: root.dataset.end });
        while (status.state === "queued" || status.state === "running") {
          await new Promise((r) => setTimeout(r, 500));
          status = await call("GET", "/api/v1/reports/exports/" + status.id + "/");
          bar.value = status.progress_pct; state.textContent = status.state + " " + status.rows_done + (status.rows_total ? " / " + status.rows_total : "") + " rows";
        }
        if (status.state === "done") { bar.value = 100; state.textContent = "ready"; window.location = status.download; }
        else state.textContent = "failed: " + status.error + " — try again or narrow the period";
      } catch (e) { state.textContent = "could not export: " + e.message; }
      button.disabled = false;
    });
  }
})();
