// The crew page's service worker: network first; when there is no network, the last copy of the page and its
// scripts (the presses are queued by crew.js and replayed when the network is back).
const CACHE = "ygt-crew-v1";
const ASSETS = {{ assets_json|safe }};
self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).catch(() => null).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  const page = req.mode === "navigate" && url.pathname.startsWith({{ page_json|safe }});
  if (!page && !ASSETS.includes(url.pathname)) return;
  e.respondWith(fetch(req).then((resp) => {
    if (resp.ok) { const copy = resp.clone(); caches.open(CACHE).then((c) => c.put(req, copy)); }
    return resp;
  }).catch(() => caches.match(req).then((hit) => hit || caches.match({{ page_json|safe }}))));
});
