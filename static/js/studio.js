// Seller studio: the stream's websocket (chat + moderation, live numbers) and small helpers.
// Copy buttons ([data-copy]) are handled by app.js; everything else is htmx.
(function () {
  "use strict";
  var root = document.getElementById("studio");
  if (!root || !root.dataset.ws || !window.WebSocket) return;

  var log = root.querySelector("[data-chat-log]");
  var rowTemplate = root.querySelector("template[data-chat-row]");
  var form = root.querySelector("[data-chat-form]");
  var errorBox = root.querySelector("[data-chat-error]");
  var stateBadge = root.querySelector("[data-chat-state]");
  var socket = null;
  var attempt = 0;
  var heartbeat = null;
  var MAX_ROWS = 200;
  var ACCOUNT_CLOSED = {
    4001: "이용이 정지된 계정입니다.",
    4002: "관리자 권한이 해제되었습니다.",
    4401: "로그아웃되었습니다. 다시 로그인해 주세요."
  };

  function setState(text) { if (stateBadge) stateBadge.textContent = text; }
  function showError(text) { if (errorBox) errorBox.textContent = text || ""; }

  function addMessage(message) {
    if (!log || !rowTemplate || !message || !message.id) return;
    if (log.querySelector('[data-message-id="' + message.id + '"]')) return;
    var row = rowTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.messageId = message.id;
    row.dataset.userId = message.user_id || "";
    row.querySelector(".chat-name").textContent = message.name || "익명";
    var badge = row.querySelector("[data-seller-badge]");
    if (badge) badge.hidden = !message.seller;
    if (message.seller) {
      row.classList.add("from-seller");
      // the seller's own messages: nothing to moderate
      row.querySelectorAll('[data-mod="mute"], [data-mod="ban"]').forEach(function (b) { b.remove(); });
    }
    row.querySelector(".chat-body").textContent = message.body || "";
    if (!message.user_id) {
      row.querySelectorAll('[data-mod="mute"], [data-mod="ban"]').forEach(function (b) { b.remove(); });
    }
    log.appendChild(row);
    while (log.children.length > MAX_ROWS) log.removeChild(log.firstElementChild);
    log.scrollTop = log.scrollHeight;
  }

  function removeMessage(id) {
    var row = log && log.querySelector('[data-message-id="' + id + '"]');
    if (row) row.remove();
  }

  function setViewers(count) {
    var cell = document.querySelector('[data-testid="viewer-count"]');
    if (cell && typeof count === "number") cell.textContent = String(count);
  }

  function onEvent(name, data) {
    switch (name) {
      case "chat.message": addMessage(data); break;
      case "chat.deleted": removeMessage(data && data.message_id); break;
      case "viewers": setViewers(data && data.viewers); break;
      case "order.created":
      case "payment.confirmed":
      case "sales.updated":
        if (window.htmx) window.htmx.trigger(document.body, "studio:sales");
        break;
      case "stream.started":
      case "stream.ended":
        if (window.htmx) window.htmx.trigger(document.body, "studio:status");
        // the preview player starts or stops with the show
        window.dispatchEvent(new CustomEvent("dorami:stream", {
          detail: { status: (data && data.status) || (name === "stream.ended" ? "OFFLINE" : "LIVE") }
        }));
        break;
    }
  }

  function onFrame(event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame.type === "history") {
      (frame.messages || []).forEach(addMessage);
    } else if (frame.type === "event") {
      onEvent(frame.event, frame.data || {});
    } else if (frame.type === "status") {
      // The server lost / regained Redis: say so, and redraw what may have been missed.
      setState(frame.state === "degraded" ? "재연결 중..." : "연결됨");
      if (frame.state === "ok" && window.htmx) {
        window.htmx.trigger(document.body, "studio:sales");
        window.htmx.trigger(document.body, "studio:status");
      }
    } else if (frame.type === "error") {
      showError(frame.message || frame.code);
    }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.ws);
    socket.addEventListener("open", function () {
      attempt = 0;
      setState("연결됨");
      showError("");
      clearInterval(heartbeat);
      heartbeat = setInterval(function () { send({ type: "heartbeat" }); }, 15000);
    });
    socket.addEventListener("message", onFrame);
    socket.addEventListener("close", function (event) {
      clearInterval(heartbeat);
      if (ACCOUNT_CLOSED[event.code]) {
        // No longer staff / suspended / logged out: the studio stops and says why.
        var text = event.reason || ACCOUNT_CLOSED[event.code];
        root.setAttribute("data-account-closed", String(event.code));
        setState(text);
        showError(text);
        if (form) Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
        return;
      }
      setState("재연결 중...");
      attempt += 1;
      setTimeout(connect, Math.min(1000 * Math.pow(2, attempt), 15000));
    });
  }

  function send(payload) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(payload));
      return true;
    }
    showError("채팅 서버에 연결되지 않았습니다.");
    return false;
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector('input[name="body"]');
      var body = (input.value || "").trim();
      if (!body) return;
      if (send({ type: "chat", body: body })) input.value = "";
    });
  }

  if (log) {
    log.addEventListener("click", function (event) {
      var button = event.target.closest("[data-mod]");
      if (!button) return;
      var row = button.closest("[data-message-id]");
      var kind = button.dataset.mod;
      if (kind === "delete") {
        send({ type: "delete", message_id: Number(row.dataset.messageId) });
      } else if (row.dataset.userId) {
        var question = kind === "ban" ? "이 사용자를 강퇴할까요?" : "이 사용자의 채팅을 금지할까요?";
        if (window.confirm(question)) send({ type: kind, user_id: Number(row.dataset.userId) });
      }
    });
  }

  connect();
})();
