// Live room client: one websocket for chat, viewer counts and room events; product and checkout
// sheets. Every room event carries a per-room `seq` and `epoch`; on a gap, a new epoch (the
// server lost its counters), a reconnect or a `status: ok` frame (the server's Redis is back) the
// client refetches the room state and redraws. While the socket is closed or the server reports
// `status: degraded` the page shows 재연결 중. All user text is inserted with textContent.
(function () {
  "use strict";
  var room = document.getElementById("live-room");
  if (!room) return;

  var $ = function (sel, root) { return (root || room).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || room).querySelectorAll(sel)); };
  var chatList = $("[data-chat-list]");
  var viewersEl = $("[data-viewers]");
  var toastEl = document.querySelector("[data-toast]");
  var isStaff = room.getAttribute("data-staff") === "1";
  var gateUrl = room.getAttribute("data-gate-url");
  var stateUrl = room.getAttribute("data-state-url");
  var lastSeq = parseInt(room.getAttribute("data-seq"), 10) || 0;
  var lastEpoch = room.getAttribute("data-epoch") || "";
  var serverDegraded = room.getAttribute("data-realtime") === "degraded";
  var socketOpen = false;
  var pendingChat = null;   // the last chat sent, put back in the input if the server refuses it
  var CHAT_REFUSALS = ["REALTIME_UNAVAILABLE", "RATE_LIMIT_EXCEEDED", "CHAT_MUTED", "MESSAGE_EMPTY", "MESSAGE_TOO_LONG", "FLOODING"];
  var socket = null;
  var attempt = 0;
  var heartbeat = null;
  var refetching = false;
  var refetchAgain = false;
  var MAX_CHAT_LINES = 150;

  // --- guest identity (several tabs count once) ---------------------------------------------
  function guestKey() {
    try {
      var key = localStorage.getItem("dorami-guest");
      if (!key) {
        key = (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now()).replace(/[^A-Za-z0-9_-]/g, "");
        localStorage.setItem("dorami-guest", key);
      }
      return key;
    } catch (e) { return ""; }
  }

  function toast(text, ms) {
    if (!toastEl) return;
    toastEl.textContent = text;
    toastEl.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { toastEl.hidden = true; }, ms || 2500);
  }

  // --- chat ---------------------------------------------------------------------------------
  function chatLine(m) {
    var li = document.createElement("li");
    li.className = "chat-line";
    li.setAttribute("data-message-id", m.id);
    var name = document.createElement("b");
    name.className = "chat-name";
    name.textContent = m.name;
    var body = document.createElement("span");
    body.className = "chat-body";
    body.textContent = m.body;
    li.appendChild(name);
    if (m.seller) {
      li.className += " from-seller";
      var badge = document.createElement("span");
      badge.className = "seller-badge";
      badge.setAttribute("data-seller-badge", "");
      badge.textContent = "판매자";
      li.appendChild(badge);
    }
    li.appendChild(document.createTextNode(" "));
    li.appendChild(body);
    if (isStaff) {
      var del = document.createElement("button");
      del.type = "button";
      del.className = "chat-delete";
      del.setAttribute("data-delete", m.id);
      del.setAttribute("aria-label", "삭제");
      del.textContent = "✕";
      li.appendChild(document.createTextNode(" "));
      li.appendChild(del);
    }
    return li;
  }

  function addMessage(m) {
    if (!chatList || chatList.querySelector('[data-message-id="' + m.id + '"]')) return;
    var nearBottom = chatList.scrollHeight - chatList.scrollTop - chatList.clientHeight < 40;
    chatList.appendChild(chatLine(m));
    while (chatList.children.length > MAX_CHAT_LINES) chatList.removeChild(chatList.firstChild);
    if (nearBottom) chatList.scrollTop = chatList.scrollHeight;
  }

  function removeMessage(id) {
    var li = chatList && chatList.querySelector('[data-message-id="' + id + '"]');
    if (li) li.parentNode.removeChild(li);
  }

  function setMessages(messages) {
    if (!chatList) return;
    chatList.textContent = "";
    messages.forEach(addMessage);
    chatList.scrollTop = chatList.scrollHeight;
  }

  // --- products -----------------------------------------------------------------------------
  // "N개 남음" from 1 to the seller's threshold (SystemConfig.low_stock_threshold).
  var lowStock = parseInt(room.getAttribute("data-low-stock"), 10) || 0;
  function card(productId) { return $('[data-product-id="' + productId + '"]'); }

  function setProductStock(productId, soldOut, available) {
    var el = card(productId);
    if (!el) return;
    el.classList.toggle("sold-out", !!soldOut);
    var sold = $("[data-sold-out-badge]", el);
    if (sold) sold.hidden = !soldOut;
    var low = $("[data-low-badge]", el);
    if (low) {
      var show = !soldOut && available > 0 && available <= lowStock;
      low.hidden = !show;
      if (show) low.textContent = available + "개 남음";
    }
    if (featuredEl && featuredEl.getAttribute("data-product-id") === String(productId)) setFeaturedSoldOut(!!soldOut);
  }

  // Variant availability is tracked per product so a product is sold out only when all are.
  // Seeded from the server-rendered cards (data-variant-stock="variantId:available,…").
  var variantStock = {};
  function seedVariantStock() {
    variantStock = {};
    $$("[data-variant-stock]").forEach(seedCardStock);
  }
  function seedCardStock(el) {
    var entry = variantStock[el.getAttribute("data-product-id")] = {};
    (el.getAttribute("data-variant-stock") || "").split(",").forEach(function (pair) {
      var parts = pair.split(":");
      if (parts.length === 2) entry[parts[0]] = parseInt(parts[1], 10) || 0;
    });
  }
  seedVariantStock();
  function onStock(data) {
    var p = variantStock[data.product_id] = variantStock[data.product_id] || {};
    if (data.variant_id != null) p[data.variant_id] = data.status === "ACTIVE" ? data.available : 0;
    var total = 0;
    var known = Object.keys(p);
    known.forEach(function (k) { total += p[k]; });
    setProductStock(data.product_id, total <= 0, total);
    updateOpenSheet(data);
  }

  function updateOpenSheet(data) {
    var input = document.querySelector('#sheet-body input[name="variant_id"][value="' + data.variant_id + '"]');
    if (!input) return;
    input.setAttribute("data-available", data.available);
    var label = input.closest("label");
    var note = label && label.querySelector(".stock-note");
    if (data.available <= 0) {
      if (label) label.classList.add("short");
      if (!note && label) { note = document.createElement("small"); note.className = "stock-note"; label.appendChild(note); }
      if (note) { note.textContent = "품절"; note.classList.remove("low"); }
    } else if (note) {
      note.textContent = data.available <= lowStock ? data.available + "개 남음" : "";
    }
  }

  function setViewers(count) {
    if (viewersEl) viewersEl.textContent = count == null ? "-" : count;
  }

  // 재연결 중: shown while the socket is down or the server has lost its realtime link.
  function updateBanner() {
    var el = $("[data-realtime-banner]");
    if (el) el.hidden = socketOpen && !serverDegraded;
  }

  function applyState(state) {
    lastSeq = state.seq;
    lastEpoch = state.epoch || "";
    setViewers(state.viewers);
    setNotice(state.notice);
    setFeatured(state.featured_product_id);
    setStatus(state.status);
    variantStock = {};
    (state.products || []).forEach(function (p) {
      var entry = variantStock[p.product_id] = {};
      p.variants.forEach(function (v) { entry[v.variant_id] = v.status === "ACTIVE" ? v.available : 0; });
      setProductStock(p.product_id, p.sold_out, p.available);
    });
    setMessages(state.messages || []);
  }

  function refetch() {
    if (!stateUrl) return;
    if (refetching) { refetchAgain = true; return; }   // the answer may predate the reason
    refetching = true;
    refetchAgain = false;
    fetch(stateUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(applyState)
      .catch(function () { /* the next gap or reconnect tries again */ })
      .then(function () { refetching = false; if (refetchAgain) refetch(); });
  }

  // --- room -----------------------------------------------------------------------------------
  function setNotice(text) {
    var box = $("[data-notice-box]");
    var el = $("[data-notice]");
    if (!box || !el) return;
    el.textContent = text || "";
    var site = $("[data-site-notice]");
    box.hidden = !text && !(site && site.textContent);
  }

  function setFeatured(productId) {
    $$(".product-card.featured").forEach(function (el) { el.classList.remove("featured"); });
    var el = productId && card(productId);
    if (el) {
      el.classList.add("featured");
      if (el.scrollIntoView) el.scrollIntoView({ behavior: "smooth", block: "nearest", inline: "center" });
    }
    renderFeatured(el || null);
  }

  // --- "지금 소개 중" card: the featured product over the video, one tap to add -------------
  var featuredEl = $("[data-featured]");

  // Fill the card from the product's carousel card (name, price, image, stock), or hide it.
  function renderFeatured(cardEl) {
    if (!featuredEl) return;
    if (!cardEl) { featuredEl.hidden = true; featuredEl.setAttribute("data-product-id", ""); return; }
    var productId = cardEl.getAttribute("data-product-id");
    featuredEl.setAttribute("data-product-id", productId);
    $("[data-featured-name]", featuredEl).textContent = cardEl.getAttribute("data-name") || "";
    var price = $(".price", cardEl);
    $("[data-featured-price]", featuredEl).textContent = price ? price.textContent : "";
    var thumb = $("[data-featured-thumb]", featuredEl);
    var img = $("img", cardEl);
    thumb.textContent = "";
    if (img) { var copy = document.createElement("img"); copy.src = img.src; copy.alt = ""; thumb.appendChild(copy); }
    else thumb.textContent = "🛍";
    setFeaturedSoldOut(cardEl.classList.contains("sold-out"));
    featuredEl.hidden = false;
  }

  function setFeaturedSoldOut(soldOut) {
    var button = featuredEl && $("[data-featured-add]", featuredEl);
    if (!button) return;
    button.disabled = soldOut;
    button.textContent = soldOut ? "품절" : "담기";
  }

  // The one variant that can be bought, or null when the shopper has to choose (or none is left).
  function onlyVariant(productId) {
    var stock = variantStock[productId] || {};
    var ids = Object.keys(stock);
    return ids.length === 1 && stock[ids[0]] > 0 ? ids[0] : null;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  // One tap: a product with a single option goes straight into the cart; otherwise (or when a
  // login is needed, or stock is short) the product sheet opens and says what to do.
  function addFeatured(button) {
    var productId = featuredEl.getAttribute("data-product-id");
    var cardEl = productId && card(productId);
    if (!cardEl || button.disabled) return;
    var variantId = onlyVariant(productId);
    if (!variantId || room.getAttribute("data-gate")) { openSheet(cardEl.getAttribute("data-sheet-url")); return; }
    var body = new FormData();
    body.append("variant_id", variantId);
    body.append("quantity", "1");
    button.disabled = true;
    button.classList.add("is-busy");
    fetch(room.getAttribute("data-cart-add-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() }
    })
      .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
      .then(function (answer) {
        if (answer.ok) {
          toast("장바구니에 담았습니다");
          if (window.htmx) htmx.trigger(document.body, "cart-changed");
        } else if (answer.data.error && answer.data.error.code === "INSUFFICIENT_STOCK") {
          openSheet(cardEl.getAttribute("data-sheet-url"));
        } else {
          toast((answer.data.error && answer.data.error.message) || "담지 못했습니다. 다시 시도해 주세요.");
        }
      })
      .catch(function () { toast("연결 중입니다. 잠시 후 다시 시도해 주세요."); })
      .then(function () { button.disabled = false; button.classList.remove("is-busy"); });
  }

  function setStatus(status) {
    if (!status) return;
    var previous = room.getAttribute("data-status");
    room.setAttribute("data-status", status);
    var live = $("[data-live-badge]");
    var ended = $("[data-ended-badge]");
    if (live) live.hidden = status !== "LIVE";
    if (ended) ended.hidden = status !== "OFFLINE";
    if (previous !== status) window.dispatchEvent(new CustomEvent("dorami:stream", { detail: { status: status } }));
  }

  function activity(text) {
    var feed = $("[data-activity]");
    if (!feed) return;
    var li = document.createElement("li");
    li.textContent = text;
    feed.appendChild(li);
    while (feed.children.length > 3) feed.removeChild(feed.firstChild);
    setTimeout(function () { if (li.parentNode) li.parentNode.removeChild(li); }, 5000);
  }

  function banner(text) {
    var el = $("[data-banner]");
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
    clearTimeout(banner.timer);
    banner.timer = setTimeout(function () { el.hidden = true; }, 4000);
  }

  var handlers = {
    "chat.message": function (m) {
      if (pendingChat !== null && m.body === pendingChat) pendingChat = null;
      addMessage(m);
    },
    "chat.deleted": function (d) { removeMessage(d.message_id); },
    "viewers": function (d) { setViewers(d.viewers); },
    "stock.changed": onStock,
    "stock.low": function (d) { onStock({ product_id: d.product_id, variant_id: d.variant_id, available: d.available, status: "ACTIVE" }); },
    "product.sold_out": function (d) {
      if (d.variant_id == null) { variantStock[d.product_id] = {}; setProductStock(d.product_id, true, 0); }
      else onStock({ product_id: d.product_id, variant_id: d.variant_id, available: 0, status: "SOLD_OUT" });
    },
    "product.added": placeCard,
    "product.updated": placeCard,
    "product.deleted": function (d) { var el = card(d.product_id); if (el) el.parentNode.removeChild(el); },
    "featured.changed": function (d) { setFeatured(d.product_id); },
    "notice.updated": function (d) { setNotice(d.notice); },
    "cart.activity": function (d) {
      var who = d.others ? d.name + "님 외 " + d.others + "명이" : d.name + "님이";
      activity(who + " 장바구니에 담았습니다");
    },
    "order.created": function (d) { banner((d.name || "누군가") + "님이 주문을 생성했습니다"); },
    "payment.confirmed": function () { /* shown on the order page */ },
    "stream.started": function (d) { setStatus(d.status || "LIVE"); startClock(d.started_at); },
    "stream.ended": function (d) { setStatus(d.status || "OFFLINE"); refreshEndedPanel(); }
  };

  // Product added or edited: the event carries its carousel card, rendered once on the server
  // for every viewer (live/cards.py), so no viewer fetches the page. "" = no longer on the
  // carousel. An event without a card (an older server) still reloads the carousel fragment.
  function placeCard(d) {
    if (typeof d.card_html !== "string") { refetchPage(); return; }
    var carousel = $("[data-carousel]");
    if (!carousel) return;
    var current = $('[data-product-id="' + d.product_id + '"]', carousel);
    if (!d.card_html) { if (current) carousel.removeChild(current); delete variantStock[d.product_id]; return; }
    var holder = document.createElement("template");
    holder.innerHTML = d.card_html.trim();
    var fresh = holder.content.firstElementChild;
    if (!fresh) return;
    if (current) carousel.replaceChild(fresh, current);
    else {
      var empty = $(".carousel-empty", carousel);
      if (empty) carousel.removeChild(empty);
      carousel.appendChild(fresh);
    }
    seedCardStock(fresh);
  }

  var carouselTimer = null;
  function refetchPage() {
    clearTimeout(carouselTimer);
    carouselTimer = setTimeout(function () {
      fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-carousel]");
          var current = $("[data-carousel]");
          if (fresh && current) { current.innerHTML = fresh.innerHTML; seedVariantStock(); }
        })
        .catch(function () {});
    }, 300);
  }

  // The show just ended on an open page: fetch the ended panel (with the next show) once,
  // spread over a few seconds so every viewer does not ask at the same instant.
  function refreshEndedPanel() {
    setTimeout(function () {
      fetch(window.location.pathname, { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-ended-panel]");
          var current = $("[data-ended-panel]");
          if (fresh && current) current.innerHTML = fresh.innerHTML;
        })
        .catch(function () {});
    }, Math.random() * 5000);
  }

  function onEvent(frame) {
    if (typeof frame.seq === "number") {
      // A new epoch: the server's counters were reset (Redis came back empty), so numbers
      // start again from 1 and everything since the last known state must be refetched.
      var reset = !!frame.epoch && frame.epoch !== lastEpoch;
      if (!reset && frame.seq <= lastSeq) return;     // already reflected
      var gap = reset || frame.seq > lastSeq + 1;
      lastSeq = frame.seq;
      if (frame.epoch) lastEpoch = frame.epoch;
      if (gap) refetch();
    }
    var handler = handlers[frame.event];
    if (handler) {
      try { handler(frame.data || {}); } catch (e) { /* one bad event must not stop the room */ }
    }
  }

  function onError(frame) {
    if (frame.code === "ACCOUNT_SUSPENDED" || frame.code === "STAFF_REVOKED" || frame.code === "SESSION_ENDED") {
      return;  // the close that follows says it, and stays on the page
    }
    if (frame.code === "LOGIN_REQUIRED" || frame.code === "PROFILE_INCOMPLETE") {
      if (gateUrl) { window.location.href = gateUrl; return; }
    }
    if (pendingChat !== null && CHAT_REFUSALS.indexOf(frame.code) !== -1) {
      var input = $("[data-chat-input]");
      if (input && !input.value) input.value = pendingChat;   // never lose what was typed
      pendingChat = null;
    }
    toast(frame.message || frame.code, 4000);
  }

  function onStatus(frame) {
    serverDegraded = frame.state === "degraded";
    updateBanner();
    if (frame.state === "ok") refetch();   // events sent while it was down are lost: redraw
  }

  // --- socket -------------------------------------------------------------------------------
  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + window.location.host + room.getAttribute("data-ws-path");
    var guest = guestKey();
    if (guest) url += "?g=" + encodeURIComponent(guest);
    room.setAttribute("data-ws-state", "connecting");
    try { socket = new WebSocket(url); } catch (e) { scheduleReconnect(); return; }
    socket.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (frame.type === "event") onEvent(frame);
      else if (frame.type === "hello") {
        attempt = 0;
        socketOpen = true;
        serverDegraded = false;   // a `status: degraded` frame follows the hello if not
        updateBanner();
        room.setAttribute("data-ws-state", "open");
        setViewers(frame.viewers);
        // Missed events while away, or the counters were reset: redraw from the state.
        if (typeof frame.seq === "number" && (frame.seq > lastSeq || (frame.epoch && frame.epoch !== lastEpoch))) refetch();
      } else if (frame.type === "history") {
        (frame.messages || []).forEach(addMessage);
      } else if (frame.type === "status") onStatus(frame);
      else if (frame.type === "error") onError(frame);
    };
    socket.onclose = function (event) {
      clearInterval(heartbeat);
      socketOpen = false;
      updateBanner();
      room.setAttribute("data-ws-state", "closed");
      if (event.code === 4003) { toast("이 방송에서 강퇴되었습니다.", 6000); disableChat(); return; }
      if (event.code === 4404) return;
      if (ACCOUNT_CLOSED[event.code]) { accountClosed(event.code, event.reason || ACCOUNT_CLOSED[event.code]); return; }
      scheduleReconnect();
    };
    socket.onopen = function () {
      clearInterval(heartbeat);
      heartbeat = setInterval(function () {
        if (socket && socket.readyState === 1) socket.send('{"type":"heartbeat"}');
      }, 10000);
    };
  }

  // The account behind this page changed (suspended, no longer staff, logged out everywhere):
  // the server closed the socket with one of these codes and the Korean reason. No reconnect.
  var ACCOUNT_CLOSED = {
    4001: "이용이 정지된 계정입니다.",
    4002: "관리자 권한이 해제되었습니다.",
    4401: "로그아웃되었습니다. 다시 로그인해 주세요."
  };
  function accountClosed(code, text) {
    room.setAttribute("data-account-closed", String(code));
    disableChat();
    var actions = $(".live-actions");
    if (actions) {
      actions.textContent = "";
      var note = document.createElement("p");
      note.className = "account-closed";
      note.setAttribute("role", "alert");
      note.setAttribute("data-account-closed-message", "");
      note.textContent = text;
      actions.appendChild(note);
      if (code !== 4002) {  // suspended / logged out: the login page explains and lets them back
        var link = document.createElement("a");
        link.className = "btn";
        link.href = "/login/" + (code === 4001 ? "?suspended=1" : "?next=" + encodeURIComponent(location.pathname));
        link.setAttribute("data-account-closed-login", "");
        link.textContent = "로그인 페이지로";
        actions.appendChild(link);
      }
    } else {
      toast(text, 8000);
    }
  }

  function scheduleReconnect() {
    attempt += 1;
    var delay = Math.min(15000, 500 * Math.pow(2, Math.min(attempt, 5)));
    setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }

  function disableChat() {
    var form = $("[data-chat-form]");
    if (form) Array.prototype.forEach.call(form.elements, function (el) { el.disabled = true; });
  }

  function send(obj) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(obj)); return true; }
    toast("연결 중입니다. 잠시 후 다시 시도해 주세요.");
    return false;
  }

  // --- UI wiring ----------------------------------------------------------------------------
  var form = $("[data-chat-form]");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("[data-chat-input]", form);
      var body = (input.value || "").trim();
      if (!body) return;
      if (body.length > 500) { toast("메시지는 500자 이내로 입력해 주세요."); return; }
      if (serverDegraded) { toast("실시간 연결이 끊겨 메시지를 보내지 못했습니다. 잠시 후 다시 보내 주세요.", 4000); return; }
      if (send({ type: "chat", body: body })) { pendingChat = body; input.value = ""; }
    });
  }

  room.addEventListener("click", function (event) {
    var del = event.target.closest("[data-delete]");
    if (del) {
      event.preventDefault();
      send({ type: "delete", message_id: parseInt(del.getAttribute("data-delete"), 10) });
      return;
    }
    var product = event.target.closest("[data-sheet-url]");
    if (product) {
      event.preventDefault();
      openSheet(product.getAttribute("data-sheet-url"));
      return;
    }
    var featuredAdd = event.target.closest("[data-featured-add]");
    if (featuredAdd) {
      event.preventDefault();
      addFeatured(featuredAdd);
      return;
    }
    var checkout = event.target.closest("[data-open-checkout]");
    if (checkout) {
      event.preventDefault();
      openSheet(checkout.getAttribute("data-checkout-url"));
      return;
    }
    if (event.target.closest("[data-sheet-close]")) {
      closeSheet();
      return;
    }
    if (event.target.closest("[data-share]")) {
      event.preventDefault();
      var data = { title: document.title, url: window.location.href };
      if (navigator.share) navigator.share(data).catch(function () {});
      else if (navigator.clipboard) navigator.clipboard.writeText(data.url).then(function () { toast("링크를 복사했습니다"); });
    }
  });

  // Sheets: the shop's product sheet / the order sheet, loaded as HTML fragments. htmx (loaded
  // on every page) processes them, so their forms post without leaving the live page.
  var sheet = $("[data-sheet]");
  var sheetBody = $("[data-sheet-body]");
  function openSheet(url) {
    if (!sheet || !sheetBody) return;
    if (window.htmx) {
      htmx.ajax("GET", url, { target: sheetBody, swap: "innerHTML" }).then(function () { sheet.hidden = false; });
    } else {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
        sheetBody.innerHTML = html;
        sheet.hidden = false;
      });
    }
  }
  function closeSheet() {
    if (sheet) sheet.hidden = true;
    if (sheetBody) sheetBody.textContent = "";
  }

  // Back from the login page (`?product=<id>&variant=<id>`): reopen that product's sheet with
  // the option chosen before, and tidy the address bar.
  function openSheetFromQuery() {
    var params = new URLSearchParams(window.location.search);
    var productId = params.get("product");
    var cardEl = productId && /^\d+$/.test(productId) && card(productId);
    if (!cardEl) return;
    var url = cardEl.getAttribute("data-sheet-url");
    var variant = params.get("variant");
    if (variant && /^\d+$/.test(variant)) url += "?variant=" + variant;
    if (window.history && history.replaceState) history.replaceState(null, "", window.location.pathname);
    openSheet(url);
  }
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeSheet(); });
  // Gate redirects inside a sheet (HX-Redirect) are followed by htmx itself.

  // --- elapsed time -------------------------------------------------------------------------
  var clock = null;
  function startClock(startedAt) {
    var el = $("[data-elapsed]");
    var t0 = Date.parse(startedAt || room.getAttribute("data-started-at") || "");
    if (!el || isNaN(t0) || room.getAttribute("data-status") !== "LIVE") return;
    clearInterval(clock);
    var tick = function () {
      if (room.getAttribute("data-status") === "OFFLINE") return;
      var s = Math.max(0, Math.floor((Date.now() - t0) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (h ? h + ":" + String(m).padStart(2, "0") : String(m).padStart(2, "0")) + ":" + String(sec).padStart(2, "0");
    };
    tick();
    clock = setInterval(tick, 1000);
  }

  if (chatList) chatList.scrollTop = chatList.scrollHeight;
  startClock();
  openSheetFromQuery();
  connect();
})();
