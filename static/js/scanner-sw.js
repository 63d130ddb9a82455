// The gate scanner's service worker (served as /checkin/sw.js, scope /checkin/): keeps the
// scanner page and its files so that the page opens again without network.
//   the scanner page   network first (a short wait), the kept copy when the network fails
//   its static files   from the cache at once, refreshed in the background
//   the API, search, anything not a GET: never touched (always the network; the page itself
//   queues scans when that fails)
// The page sends the list of its files ({type: "precache", urls}) once the worker is active.

const CACHE = "kongres-scanner-v1";
const PAGE_TIMEOUT_MS = 4000;

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("kongres-scanner-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "precache" || !Array.isArray(data.urls)) return;
  const urls = data.urls.filter((url) => new URL(url).origin === self.location.origin);
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(
        urls.map((url) =>
          fetch(url, { credentials: "same-origin", cache: "no-cache" })
            .then((response) => (cacheable(response) ? cache.put(url, response) : null))
            .catch(() => null),
        ),
      ),
    ),
  );
});

/** A response worth keeping: a same-origin 200 that is not the login page after a redirect. */
function cacheable(response) {
  return response && response.ok && response.type === "basic" && !response.redirected;
}

function isScannerPage(url) {
  return url.pathname.endsWith("/checkin/scanner") || url.pathname.endsWith("/checkin/manifest.webmanifest");
}

function isStaticFile(url) {
  return url.pathname.includes("/static/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" || isScannerPage(url)) {
    if (isScannerPage(url)) event.respondWith(networkFirst(request));
    return;
  }
  if (isStaticFile(url)) event.respondWith(cacheFirstThenRefresh(event, request));
});

// The page from the network when it answers; the kept copy when it does not, or when only a
// failing server or proxy answers (5xx). A redirect (to sign in again) is followed as sent.
async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  let response;
  try {
    response = await withTimeout(fetch(request), PAGE_TIMEOUT_MS);
  } catch {
    response = null;
  }
  if (response && response.status < 500) {
    if (cacheable(response)) await cache.put(request, response.clone());
    return response;
  }
  const cached = await cache.match(request, { ignoreVary: true });
  return cached || response || Response.error();
}

async function cacheFirstThenRefresh(event, request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreSearch: true, ignoreVary: true });
  const refresh = fetch(request)
    .then((response) => {
      if (cacheable(response)) return cache.put(request, response.clone()).then(() => response);
      return response;
    })
    .catch(() => null);
  if (cached) {
    event.waitUntil(refresh);
    return cached;
  }
  const response = await refresh;
  return response || Response.error();
}

function withTimeout(promise, milliseconds) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), milliseconds);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
