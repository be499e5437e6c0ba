// Web push on this device: the 마이페이지 switch (every show) and the live page's
// "방송 알림 받기" button (one show). Markup: an element with data-push="device" or
// data-push="stream" (+ data-stream-id), holding a [data-push-button], a [data-push-status] and
// a [data-push-ios] hint. Flow: register /sw.js, ask permission, pushManager.subscribe with the
// VAPID key from /notifications/push/key/, post subscription.toJSON() to subscribe/.
(function () {
  "use strict";
  var KEY_URL = "/notifications/push/key/";
  var SUBSCRIBE_URL = "/notifications/push/subscribe/";
  var UNSUBSCRIBE_URL = "/notifications/push/unsubscribe/";
  var SCOPE_KEY = "dorami.push.scope"; // "all" or "stream:<id>": what this device's one endpoint is for
  var SUBSCRIBE_TIMEOUT_MS = 20000;

  var TEXT = {
    unsupported: "이 브라우저는 푸시 알림을 지원하지 않아요.",
    ios: "아이폰·아이패드는 Safari 공유 버튼 → '홈 화면에 추가' 후, 홈 화면의 도라미에서 알림을 켤 수 있어요.",
    denied: "알림이 차단되어 있어요. 브라우저 설정에서 이 사이트의 알림을 허용해 주세요.",
    off: "이 기기로 방송 시작·주문 소식을 받아요.",
    on: "이 기기에서 푸시 알림을 받고 있어요.",
    busy: "설정 중…",
    noKey: "알림 서버가 아직 준비되지 않았어요.",
    failed: "푸시 서비스에 연결하지 못했어요. 잠시 후 다시 시도해 주세요.",
    saveFailed: "알림 신청을 저장하지 못했어요. 다시 시도해 주세요.",
    streamOff: "방송 알림 받기",
    streamOn: "알림 신청됨",
    streamAll: "모든 방송 알림을 받고 있어요",
    streamOnStatus: "방송이 시작되면 이 기기로 알려드려요."
  };

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  // iOS/iPadOS Safari delivers web push only to a site added to the home screen (standalone).
  function iosNeedsHomeScreen() {
    var ua = navigator.userAgent || "";
    var ios = /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
    if (!ios) return false;
    var standalone = navigator.standalone === true ||
      (window.matchMedia && window.matchMedia("(display-mode: standalone)").matches);
    return !standalone;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(data)
    }).then(function (response) {
      if (!response.ok) throw new Error("save " + response.status);
      return response.json();
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function registration() {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    });
  }

  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
      promise.then(function (v) { clearTimeout(timer); resolve(v); }, function (e) { clearTimeout(timer); reject(e); });
    });
  }

  function scope() { try { return localStorage.getItem(SCOPE_KEY) || ""; } catch (e) { return ""; } }
  function setScope(value) {
    try { if (value) localStorage.setItem(SCOPE_KEY, value); else localStorage.removeItem(SCOPE_KEY); } catch (e) { /* private mode */ }
  }

  // Permission, then the browser's subscription (an existing one is reused), then our server.
  function subscribe(streamId) {
    return Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") throw { state: "denied" };
      return fetch(KEY_URL, { credentials: "same-origin" }).then(function (r) { return r.text(); });
    }).then(function (key) {
      key = (key || "").trim();
      if (!key) throw { state: "noKey" };
      return registration().then(function (reg) {
        return reg.pushManager.getSubscription().then(function (existing) {
          if (existing) return existing;
          return withTimeout(
            reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }),
            SUBSCRIBE_TIMEOUT_MS
          );
        });
      });
    }).then(function (subscription) {
      var data = subscription.toJSON();
      data.stream_id = streamId ? parseInt(streamId, 10) : null; // null = every show
      return post(SUBSCRIBE_URL, data).then(function () {
        setScope(streamId ? "stream:" + streamId : "all");
        return subscription;
      }, function () { throw { state: "saveFailed" }; });
    });
  }

  function unsubscribe() {
    return registration().then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (subscription) {
      if (!subscription) return null;
      return post(UNSUBSCRIBE_URL, { endpoint: subscription.endpoint }).then(function () {
        return subscription.unsubscribe();
      });
    }).then(function () { setScope(""); });
  }

  // The state the page shows: on when this browser holds a subscription we saved.
  function currentSubscription() {
    if (Notification.permission !== "granted") return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    }).catch(function () { return null; });
  }

  function failureState(error) {
    return (error && error.state) || "failed";
  }

  function setup(root) {
    var kind = root.getAttribute("data-push");
    var button = root.querySelector("[data-push-button]");
    var status = root.querySelector("[data-push-status]");
    var hint = root.querySelector("[data-push-ios]");
    var streamId = root.getAttribute("data-stream-id") || "";

    function show(state) {
      root.setAttribute("data-push-state", state);
      var on = state === "on" || state === "all";
      if (kind === "device") {
        if (button) {
          button.classList.toggle("on", on);
          button.setAttribute("aria-checked", on ? "true" : "false");
          button.disabled = state === "busy" || state === "unsupported" || state === "denied";
        }
        if (status) status.textContent = TEXT[state] || TEXT.off;
      } else {
        if (button) {
          button.textContent = state === "all" ? TEXT.streamAll : (on ? TEXT.streamOn : (state === "busy" ? TEXT.busy : TEXT.streamOff));
          button.setAttribute("aria-pressed", on ? "true" : "false");
          button.disabled = state === "busy" || on || state === "unsupported" || state === "denied";
        }
        if (status) {
          var message = on ? TEXT.streamOnStatus : (TEXT[state] && state !== "off" && state !== "busy" ? TEXT[state] : "");
          status.textContent = message;
          status.hidden = !message;
        }
      }
    }

    if (iosNeedsHomeScreen()) {
      root.setAttribute("data-push-state", "ios");
      if (button) button.hidden = true;
      if (hint) { hint.textContent = TEXT.ios; hint.hidden = false; }
      if (status && kind === "device") status.textContent = TEXT.ios;
      if (hint && status && kind === "device") status.hidden = true;
      return;
    }
    if (!supported()) { show("unsupported"); return; }
    if (Notification.permission === "denied") { show("denied"); return; }

    currentSubscription().then(function (subscription) {
      var saved = scope();
      if (!subscription || !saved) { show("off"); return; }
      if (kind === "device") show(saved === "all" ? "on" : "off");
      else show(saved === "all" ? "all" : (saved === "stream:" + streamId ? "on" : "off"));
    });

    if (!button) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var state = root.getAttribute("data-push-state");
      if (state === "busy") return;
      show("busy");
      var turningOff = kind === "device" && state === "on";
      var work = turningOff ? unsubscribe() : subscribe(kind === "device" ? "" : streamId);
      work.then(function () { show(turningOff ? "off" : "on"); }, function (error) {
        if (window.console) console.warn("push:", error);
        var failed = failureState(error);
        if (failed === "denied") { show("denied"); return; }
        show("off");
        if (status) { status.textContent = TEXT[failed] || TEXT.failed; status.hidden = false; }
        root.setAttribute("data-push-error", failed);
      });
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-push]"), setup);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
