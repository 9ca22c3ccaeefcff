// Wangge service worker: keeps the reporting page and its files on the phone so a grid worker can
// open it in a courtyard with no signal. API calls are never cached: reports made offline wait in
// IndexedDB (see app.js) and are sent, exactly once, when the network returns.
const CACHE = "wangge-report-v2";
const SHELL = [
  "/report", "/tasks", "/assets/app.js", "/assets/app.css",
  "/assets/vendor/leaflet/leaflet.js", "/assets/vendor/leaflet/leaflet.css",
  "/assets/vendor/leaflet/images/marker-icon.png", "/assets/vendor/leaflet/images/marker-icon-2x.png",
  "/assets/vendor/leaflet/images/marker-shadow.png",
];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.pathname.startsWith("/api/")) return;
  if (!SHELL.includes(url.pathname)) return;
  // Network first (fresh pages when online), the cached copy when offline.
  ev.respondWith(
    fetch(ev.request)
      .then((res) => {
        const copy = res.clone();
        if (res.ok) caches.open(CACHE).then((c) => c.put(ev.request, copy));
        return res;
      })
      .catch(() => caches.match(ev.request)),
  );
});
