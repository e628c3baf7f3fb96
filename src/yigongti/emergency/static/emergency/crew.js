// The crew page: the time of each press goes with it; a press the network lost is queued on the phone (with its
// time and idempotency key) and replayed to the API when the network is back, so the step is recorded once, at
// the moment it was pressed. A service worker keeps the page openable offline.
(() => {
  const root = document.querySelector("[data-crew]");
  if (!root) return;
  const QKEY = "ygt-crew-queue";
  const api = root.dataset.api;
  const banner = root.querySelector("[data-testid=crew-offline]");
  const load = () => { try { return JSON.parse(localStorage.getItem(QKEY) || "[]"); } catch (e) { return []; } };
  const save = (q) => localStorage.setItem(QKEY, JSON.stringify(q));
  const csrf = () => {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  };
  const newKey = () => (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
  const hhmmss = (iso) => new Date(iso).toLocaleTimeString("zh-CN", {hour12: false});
  const showQueue = (error) => {
    const q = load();
    banner.hidden = !q.length && !error;
    banner.textContent = error || (q.length ? `网络不可用：已在本机保存 ${q.length} 个节点（含按下时间），联网后自动上传` : "");
  };

  document.addEventListener("submit", (e) => {
    const f = e.target;
    if (f.matches && f.matches("form[data-crew-step]")) f.elements.at.value = new Date().toISOString();
  }, true);

  function markOffline(panel, item) {
    const row = panel.querySelector(`[data-testid=crew-step-row][data-kind="${item.kind}"]`);
    if (row) {
      row.classList.add("done", "pending-upload");
      row.querySelector("[data-testid=crew-step-time]").textContent = hhmmss(item.at);
    }
    let plan = [];
    try { plan = JSON.parse(panel.dataset.plan || "[]"); } catch (e) { plan = []; }
    const i = plan.findIndex((p) => p[0] === item.kind);
    const status = panel.querySelector("[data-testid=crew-status]");
    if (i >= 0 && status && plan[i][2]) status.textContent = plan[i][2];
    plan = i >= 0 ? plan.slice(i + 1) : plan;
    panel.dataset.plan = JSON.stringify(plan);
    panel.querySelectorAll("details").forEach((d) => d.remove());
    const form = panel.querySelector("form[data-crew-step]");
    const button = form && form.querySelector("[data-step]");
    if (!form || !button) return;
    if (!plan.length) { form.remove(); return; }
    form.elements.kind.value = plan[0][0];
    form.elements.key.value = newKey();
    button.dataset.step = plan[0][0];
    button.textContent = plan[0][1];
    button.disabled = false;
  }

  document.addEventListener("htmx:sendError", (e) => {
    const form = e.detail.elt && e.detail.elt.closest && e.detail.elt.closest("form[data-crew-step]");
    if (!form) return;
    const panel = form.closest("[data-mission]");
    const item = {mission: panel.dataset.mission, kind: form.elements.kind.value,
                  at: form.elements.at.value || new Date().toISOString(), key: form.elements.key.value || newKey()};
    const q = load();
    if (!q.some((i) => i.mission === item.mission && i.kind === item.kind)) { q.push(item); save(q); }
    markOffline(panel, item);
    showQueue();
  });

  let flushing = false;
  async function flush() {
    if (flushing || !navigator.onLine) return;
    const q = load();
    if (!q.length) return;
    flushing = true;
    let sent = 0, error = "";
    try {
      while (q.length) {
        const it = q[0];
        let resp;
        try {
          resp = await fetch(`${api}${it.mission}/steps`, {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), "Idempotency-Key": it.key},
            body: JSON.stringify({kind: it.kind, at: it.at, source: "replay"})});
        } catch (e) { break; }  // still offline
        if (resp.status >= 500 || resp.status === 401) break;  // retry later (or after logging in again)
        if (!resp.ok) {
          const p = await resp.json().catch(() => ({}));
          error = `离线节点未能记录：${p.title || resp.status}`;
        }
        q.shift(); save(q); sent += 1;
      }
    } finally { flushing = false; }
    showQueue(error);
    if (sent && !error) window.location.reload();
  }

  window.addEventListener("online", flush);
  setInterval(flush, 10000);
  showQueue();
  flush();
  if ("serviceWorker" in navigator && root.dataset.sw) {
    navigator.serviceWorker.register(root.dataset.sw).catch(() => {});
  }
})();
