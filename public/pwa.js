// Prepaid as an installable app: registers the service worker, offers a reload when a new
// version is ready, says when the page shows what was last seen offline, and lets the
// WebAssembly pages subscribe this browser to Web Push (window.prepaidPwa).

(function () {
  "use strict";

  const supported = "serviceWorker" in navigator;
  // Set when the person presses Reload: the new worker taking over then reloads the page. The
  // first worker also takes over (clients.claim) on a first visit, mid-typing perhaps: that
  // must not reload anything.
  let reloadAsked = false;

  function whenHydrated(then) {
    // Nodes added before hydration would confuse it; the app marks <body> once it is done.
    let tries = 0;
    const wait = () => {
      if (document.body && document.body.dataset.hydrated === "true") then();
      else if (tries++ < 100) setTimeout(wait, 100);
    };
    wait();
  }

  function offerReload(registration) {
    whenHydrated(() => {
      if (document.querySelector(".update-toast")) return;
      const toast = document.createElement("div");
      toast.className = "update-toast";
      toast.setAttribute("role", "status");
      toast.textContent = "A new version of Prepaid is ready. ";
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reload";
      button.addEventListener("click", () => {
        if (registration.waiting) {
          reloadAsked = true;
          registration.waiting.postMessage("skip-waiting");
        }
      });
      toast.appendChild(button);
      document.body.appendChild(toast);
    });
  }

  function showOnline() {
    document.documentElement.toggleAttribute("data-offline", !navigator.onLine);
  }
  window.addEventListener("online", showOnline);
  window.addEventListener("offline", showOnline);
  showOnline();

  if (supported) {
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (reloadAsked) {
        reloadAsked = false;
        window.location.reload();
      }
    });
    window.addEventListener("load", () => {
      navigator.serviceWorker
        .register("/sw.js", { scope: "/" })
        .then((registration) => {
          document.documentElement.dataset.serviceWorker = "registered";
          if (registration.waiting && navigator.serviceWorker.controller) offerReload(registration);
          registration.addEventListener("updatefound", () => {
            const next = registration.installing;
            if (!next) return;
            next.addEventListener("statechange", () => {
              if (next.state === "installed" && navigator.serviceWorker.controller) offerReload(registration);
            });
          });
        })
        .catch((error) => console.warn("service worker not registered:", error));
    });
  }

  function keyBytes(base64url) {
    const padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function deviceLabel() {
    const ua = navigator.userAgent;
    const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
    const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows" : /Mac OS/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
    return system ? browser + " on " + system : browser;
  }

  async function currentSubscription() {
    if (!supported || !("PushManager" in window)) return null;
    const registration = await navigator.serviceWorker.getRegistration("/");
    return registration ? registration.pushManager.getSubscription() : null;
  }

  // Signing out (the header's form) clears this browser first; the server's Clear-Site-Data
  // answer does the same for browsers that honour it.
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (form instanceof HTMLFormElement && new URL(form.action, window.location.href).pathname === "/api/sign_out") {
        // The form is an ordinary post that leaves the page: hold it until the clearing is
        // done (form.submit() does not fire this event again).
        event.preventDefault();
        window.prepaidPwa.clear().finally(() => form.submit());
      }
    },
    true,
  );

  // Buttons marked data-print (the monthly statement's) print the page: the CSP allows no
  // inline handlers, and a page drawn on the server alone needs no WebAssembly for this.
  document.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
  });

  window.prepaidPwa = {
    // The text of the file chosen in a file input ("" when none is).
    chosenFileText: async (input) => (input && input.files && input.files[0] ? input.files[0].text() : ""),
    pushSupported: async () => supported && "PushManager" in window && "Notification" in window,
    currentEndpoint: async () => {
      const subscription = await currentSubscription();
      return subscription ? subscription.endpoint : null;
    },
    subscribe: async (vapidKey) => {
      const permission = await Notification.requestPermission();
      if (permission !== "granted") {
        throw new Error("Notifications are blocked for this site: allow them in the browser's site settings.");
      }
      const registration = await navigator.serviceWorker.ready;
      const subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(vapidKey),
      });
      const json = subscription.toJSON();
      return { endpoint: json.endpoint, p256dh: json.keys.p256dh, auth: json.keys.auth, label: deviceLabel() };
    },
    unsubscribe: async () => {
      const subscription = await currentSubscription();
      if (!subscription) return null;
      const endpoint = subscription.endpoint;
      await subscription.unsubscribe();
      return endpoint;
    },
    // Before signing out: nothing of this person stays in this browser.
    clear: async () => {
      try {
        const subscription = await currentSubscription();
        if (subscription) await subscription.unsubscribe();
      } finally {
        if (navigator.serviceWorker && navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage("clear");
        if (window.caches) {
          const keys = await caches.keys();
          await Promise.all(keys.map((key) => caches.delete(key)));
        }
      }
    },
  };
})();
