// Prepaid's service worker: an offline shell with the pages last seen (balances as they
// were), Web Push notices, and updates that wait until the person chooses to reload.
// Signing out clears it all: the server answers with Clear-Site-Data, and pwa.js asks too.

const SHELL = "prepaid-shell-v1";
const PAGES = "prepaid-pages-v1";
// Unhashed files the offline page needs: fetched afresh when online, the kept copy otherwise.
const SHELL_FILES = ["/pwa.js", "/manifest.webmanifest", "/icons/icon-192.png", "/icons/icon.svg"];
// Pages worth keeping for offline use: the resident's home and their accounts.
const KEEP = [/^\/$/, /^\/accounts\/\d+$/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== SHELL && key !== PAGES).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") {
    self.skipWaiting();
  } else if (event.data === "clear") {
    event.waitUntil(caches.keys().then((keys) => Promise.all(keys.map((key) => caches.delete(key)))));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/pkg/")) {
    // File names carry their content's hash: once cached, always right.
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirst(request, url));
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(freshOrKept(request));
  }
});

async function freshOrKept(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (offline) {
    return (await cache.match(request)) || Response.error();
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(SHELL);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

async function networkFirst(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && KEEP.some((pattern) => pattern.test(url.pathname))) {
      const copy = response.clone();
      caches.open(PAGES).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (offline) {
    const pages = await caches.open(PAGES);
    const kept = (await pages.match(request)) || (await pages.match("/"));
    if (kept) return kept;
    return new Response(
      '<!DOCTYPE html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
        "<title>Offline · Prepaid</title><body style=\"font-family:system-ui;padding:2rem\"><h1>You are offline</h1>" +
        "<p>This page has not been opened on this device before. Your balances appear here once you have seen them online.</p></body></html>",
      { headers: { "Content-Type": "text/html; charset=utf-8" } },
    );
  }
}

self.addEventListener("push", (event) => {
  let notice = { title: "Prepaid", body: "", tag: "prepaid", url: "/", urgent: false };
  try {
    notice = Object.assign(notice, event.data ? event.data.json() : {});
  } catch (unreadable) {
    // Show the default rather than nothing: a push must always show a notification.
  }
  event.waitUntil(
    self.registration.showNotification(notice.title, {
      body: notice.body,
      tag: notice.tag,
      // A newer notice with the same tag (a lower balance) replaces the older one, and says so.
      renotify: true,
      requireInteraction: notice.urgent,
      icon: "/icons/icon-192.png",
      badge: "/icons/icon-192.png",
      data: { url: notice.url },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin).href;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === target && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(target);
    }),
  );
});
