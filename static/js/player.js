// Live player: HTTP-FLV through mpegts.js first (low latency), HLS through hls.js as the
// fallback, native HLS on iOS/Safari. Retries with backoff, stall detection (currentTime frozen
// for 5 s -> reconnect). The state is on <video data-player-state>: connecting | playing |
// reconnecting | ended. live.js dispatches "dorami:stream" events (started / ended).
(function () {
  "use strict";
  var video = document.getElementById("live-video");
  if (!video) return;
  var message = document.querySelector("[data-player-message]");
  var flvUrl = video.getAttribute("data-flv-url");
  var hlsUrl = video.getAttribute("data-hls-url");
  var TEXT = {
    connecting: "연결 중",
    reconnecting: "네트워크 오류. 재연결 중...",
    waiting: "영상 신호를 기다리는 중",
    ended: "방송이 종료되었습니다",
    pending: "방송 시작 전입니다",
    starting: "곧 방송이 시작됩니다"
  };
  var STALL_MS = 5000;
  var MAX_BACKOFF_MS = 15000;

  var engine = null;      // {kind, destroy()}
  var attempt = 0;        // consecutive failures (backoff exponent)
  var useHlsFirst = false;
  var retryTimer = null;
  var stallTimer = null;
  var lastTime = -1;
  var lastProgress = 0;
  var ended = video.getAttribute("data-player-state") === "ended";
  var room = document.getElementById("live-room");
  // Scheduled but not live yet: say so (not a network error) and retry slowly; the room's
  // stream.started event starts playback at once. (The studio's preview has no room: the
  // status is on the video.)
  var pending = !ended && (room || video).getAttribute("data-status") === "PENDING";
  var PENDING_RETRY_MS = 10000;
  // LIVE but no frame has played yet: a failure then is not a network error either; say the
  // show is about to start (or, on a 404, that the video signal is awaited).
  var played = false;

  function setState(state, text) {
    video.setAttribute("data-player-state", state);
    if (message) message.textContent = text || TEXT[state] || "";
  }

  function isAppleNative() {
    var ua = navigator.userAgent || "";
    var iOS = /iPad|iPhone|iPod/.test(ua) || (ua.indexOf("Macintosh") >= 0 && "ontouchend" in document);
    var safari = /^((?!chrome|android|crios|fxios).)*safari/i.test(ua);
    return (iOS || safari) && !!video.canPlayType("application/vnd.apple.mpegurl");
  }

  function teardown() {
    if (engine) {
      try { engine.destroy(); } catch (e) { /* already gone */ }
      engine = null;
    }
    video.removeAttribute("src");
    try { video.load(); } catch (e) { /* ignore */ }
  }

  // noSignal: the server answered 404 (LIVE, but no video reaches the media server yet).
  function fail(noSignal) {
    if (ended) return;
    teardown();
    attempt += 1;
    // After two FLV failures in a row try HLS, and alternate from then on.
    if (attempt >= 2) useHlsFirst = !useHlsFirst;
    var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, Math.min(attempt - 1, 4)));
    delay = delay / 2 + Math.random() * delay / 2;
    if (pending) {
      delay = PENDING_RETRY_MS;
      setState("connecting", TEXT.pending);
    } else if (noSignal === true) {
      setState("reconnecting", TEXT.waiting);
    } else if (!played) {
      setState("connecting", TEXT.starting);
    } else {
      setState("reconnecting", TEXT.reconnecting);
    }
    clearTimeout(retryTimer);
    retryTimer = setTimeout(start, delay);
  }

  function playSafely() {
    var p = video.play();
    if (p && p.catch) p.catch(function () { /* autoplay blocked until a tap; muted usually plays */ });
  }

  function startFlv() {
    if (!(window.mpegts && mpegts.getFeatureList().mseLivePlayback)) return false;
    var player = mpegts.createPlayer(
      { type: "flv", isLive: true, url: flvUrl },
      { enableStashBuffer: false, liveBufferLatencyChasing: true, lazyLoad: false, autoCleanupSourceBuffer: true }
    );
    player.on(mpegts.Events.ERROR, function (_type, _detail, info) { fail(!!info && info.code === 404); });
    player.attachMediaElement(video);
    player.load();
    engine = { kind: "flv", destroy: function () { player.pause(); player.unload(); player.detachMediaElement(); player.destroy(); } };
    playSafely();
    return true;
  }

  function startHlsJs() {
    if (!(window.Hls && Hls.isSupported())) return false;
    var hls = new Hls({ lowLatencyMode: true, liveSyncDurationCount: 2, manifestLoadingMaxRetry: 2 });
    hls.on(Hls.Events.ERROR, function (_event, data) {
      if (data && data.fatal) fail(!!data.response && data.response.code === 404);
    });
    hls.loadSource(hlsUrl);
    hls.attachMedia(video);
    engine = { kind: "hls", destroy: function () { hls.destroy(); } };
    playSafely();
    return true;
  }

  function startNative() {
    video.src = hlsUrl;
    engine = { kind: "native", destroy: function () { video.removeAttribute("src"); } };
    playSafely();
    return true;
  }

  function start() {
    if (ended) return;
    teardown();
    lastTime = -1;
    lastProgress = Date.now();
    if (pending) setState("connecting", TEXT.pending);
    else if (!played && attempt > 0) { /* a retry before the first frame keeps its message */ }
    else if (video.getAttribute("data-player-state") !== "reconnecting") setState("connecting");
    var ok;
    if (isAppleNative()) ok = startNative();
    else if (useHlsFirst) ok = startHlsJs() || startFlv();
    else ok = startFlv() || startHlsJs();
    if (!ok) ok = startNative();
    if (!ok) fail();
  }

  video.addEventListener("playing", function () {
    attempt = 0;
    played = true;
    lastProgress = Date.now();
    setState("playing");
  });
  video.addEventListener("error", function () { fail(); });

  // Stall detection: currentTime frozen for 5 s while we expect playback -> reconnect.
  stallTimer = setInterval(function () {
    if (ended || document.hidden) { lastProgress = Date.now(); return; }
    var t = video.currentTime;
    if (t !== lastTime) { lastTime = t; lastProgress = Date.now(); return; }
    if (Date.now() - lastProgress >= STALL_MS) {
      lastProgress = Date.now();
      fail();
    }
  }, 1000);

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && !ended && video.getAttribute("data-player-state") !== "playing") start();
  });

  window.addEventListener("dorami:stream", function (event) {
    var status = event.detail && event.detail.status;
    if (status === "OFFLINE") {
      ended = true;
      clearTimeout(retryTimer);
      teardown();
      setState("ended");
    } else if (status === "LIVE" && (ended || pending)) {
      ended = false;
      pending = false;
      attempt = 0;
      clearTimeout(retryTimer);
      start();
    }
  });

  var unmute = document.querySelector("[data-unmute]");
  if (unmute) {
    unmute.addEventListener("click", function () {
      video.muted = false;
      playSafely();
      unmute.hidden = true;
    });
  }

  if (ended) {
    setState("ended");
  } else {
    start();
  }
})();
