/* Console keyboard map: panels add keys with PSCCKeys.add(key, description, fn). */
(function () {
  "use strict";
  const keys = [];
  window.PSCCKeys = {
    add(key, description, fn) { keys.push({ key, description, fn }); render(); },
  };
  function render() {
    const list = document.getElementById("help-keys");
    if (!list) return;
    list.innerHTML = "";
    for (const k of keys) {
      const li = document.createElement("li");
      const kbd = document.createElement("kbd"); kbd.textContent = k.key;
      li.appendChild(kbd); li.appendChild(document.createTextNode(" " + k.description));
      list.appendChild(li);
    }
  }
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    const typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT" || t.isContentEditable);
    if (ev.key === "?" && !typing) { document.getElementById("help-dialog").showModal(); ev.preventDefault(); return; }
    if (typing && !ev.altKey) return;
    const combo = (ev.altKey ? "Alt+" : "") + (ev.ctrlKey ? "Ctrl+" : "") + ev.key;
    const hit = keys.find((k) => k.key === combo || (!ev.altKey && !ev.ctrlKey && k.key === ev.key));
    if (hit) { ev.preventDefault(); hit.fn(ev); }
  });
  window.addEventListener("DOMContentLoaded", render);
  render();
})();
