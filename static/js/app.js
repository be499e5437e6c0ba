// Small progressive enhancements shared by every page. No framework; htmx does the rest.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.getAttribute("data-copy-label") || button.textContent;
      button.setAttribute("data-copy-label", label);
      button.textContent = "복사됨";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, done);
    } else {
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      try { document.execCommand("copy"); } catch (e) { /* ignore */ }
      document.body.removeChild(area); done();
    }
  });

  // Plain (non-htmx) forms that post: the first submit disables the form's submit buttons, so a
  // double tap sends one request. htmx posts get the same guard below.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    if (form.hasAttribute("hx-post") || form.hasAttribute("data-hx-post")) return;
    if (form.getAttribute("data-submitting") === "1") { event.preventDefault(); return; }
    form.setAttribute("data-submitting", "1");
    var buttons = form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
    // Disable after this event: a disabled submitter would drop its name/value from the post.
    setTimeout(function () {
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; b.classList.add("is-busy"); });
    }, 0);
  }, true);
  // htmx posts (every shopper and studio form): the submit buttons are disabled and dimmed while
  // the request runs, so a double tap sends one request, and usable again when the answer lands.
  function guardedButtons(elt) {
    if (elt.tagName === "BUTTON") return [elt];
    if (elt.tagName !== "FORM") return [];
    return Array.prototype.slice.call(elt.querySelectorAll("button[type=submit], button:not([type])"));
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var config = event.detail.requestConfig;
    if (!config || (config.verb || "get").toLowerCase() === "get") return;
    guardedButtons(event.detail.elt).forEach(function (b) {
      if (b.disabled) return;
      b.disabled = true;
      b.classList.add("is-busy");
      b.setAttribute("data-busy-guard", "");
    });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    guardedButtons(event.detail.elt).forEach(function (b) {
      if (!b.hasAttribute("data-busy-guard")) return;
      b.disabled = false;
      b.classList.remove("is-busy");
      b.removeAttribute("data-busy-guard");
    });
  });
  // Back/forward cache: a page restored after a submit must be usable again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      form.querySelectorAll(".is-busy").forEach(function (b) { b.disabled = false; b.classList.remove("is-busy"); });
    });
  });

  // Flash messages float over the page and fade away (errors stay longer); a tap dismisses.
  function dismissFlash(box) {
    box.classList.add("flash-gone");
    setTimeout(function () { if (box.parentNode) box.parentNode.removeChild(box); }, 350);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-flash]");
    if (!box) return;
    box.addEventListener("click", function () { dismissFlash(box); });
    setTimeout(function () { dismissFlash(box); }, box.querySelector(".flash-error") ? 8000 : 4000);
  });

  // Toast: a short message at the bottom of the screen (the live page has its own element).
  var toastTimer = null;
  function toast(text, ms) {
    var el = document.querySelector("[data-toast]");
    if (!el) {
      el = document.createElement("p");
      el.className = "app-toast";
      el.setAttribute("data-toast", "");
      el.setAttribute("role", "status");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, ms || 3000);
  }
  window.doramiToast = toast;

  // Too many requests (429) to any htmx request: the server's Korean message from its JSON
  // ({"error": {"code": "RATE_LIMITED", "message": ...}}), or a general one (nginx's page).
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || xhr.status !== 429) return;
    var message = "요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) message = body.error.message;
    } catch (e) { /* not JSON: keep the general message */ }
    toast(message, 4000);
  });

  // --- The per-tab events socket (/ws/events/, accounts/consumers.py) ---------------------
  // A logged-in shopper's own events (waitlist promoted, payment confirmed, order shipped …)
  // become a toast with a link on any page; the store and home pages also receive the store's
  // product events and keep their 품절 badges current. One socket per tab, no polling.
  var body = document.body;
  var texts = document.querySelector("[data-page-events-text]");
  var wantsUser = body.hasAttribute("data-user-events");
  var wantsStore = body.hasAttribute("data-store-events");
  if (!texts || !window.WebSocket || !(wantsUser || wantsStore)) return;
  function text(name) { return texts.getAttribute("data-" + name) || ""; }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return values[key] === undefined || values[key] === null ? all : String(values[key]);
    });
  }

  // A toast that stays until closed or followed (the shopper has to act on it), at the top so
  // it covers neither the live page's chat input nor the tab bar.
  function notify(message, linkText, href) {
    var box = document.createElement("div");
    box.className = "user-toast";
    box.setAttribute("role", "alert");
    box.setAttribute("data-user-toast", "");
    var p = document.createElement("p");
    p.textContent = message;
    box.appendChild(p);
    if (href) {
      var link = document.createElement("a");
      link.className = "btn btn-accent";
      link.href = href;
      link.textContent = linkText;
      box.appendChild(link);
    }
    var close = document.createElement("button");
    close.type = "button";
    close.className = "user-toast-close";
    close.setAttribute("aria-label", text("close"));
    close.textContent = "×";
    close.addEventListener("click", function () { box.remove(); });
    box.appendChild(close);
    var stack = document.querySelector("[data-user-toasts]");
    if (!stack) {
      stack = document.createElement("div");
      stack.className = "user-toasts";
      stack.setAttribute("data-user-toasts", "");
      body.appendChild(stack);
    }
    stack.appendChild(box);
    while (stack.children.length > 3) stack.removeChild(stack.firstChild);
  }

  function orderUrl(orderId) {
    return text("order-url").replace("__order__", encodeURIComponent(orderId));
  }
  var ORDER_TEXTS = { SHIPPED: "order-shipped", DELIVERED: "order-delivered", CANCELLED: "order-cancelled" };

  function onUserEvent(name, data) {
    if (name === "waitlist.promoted") {
      var minutes = 10;
      if (data.expires_at) {
        minutes = Math.max(1, Math.ceil((Date.parse(data.expires_at) - Date.now()) / 60000));
      }
      notify(fill(text("waitlist-promoted"), { product: data.product_name, minutes: minutes }),
        text("go-cart"), text("cart-url"));
    } else if (name === "cart.expiring") {
      var left = data.minutes || 2;
      if (data.expires_at) {
        left = Math.max(1, Math.ceil((Date.parse(data.expires_at) - Date.now()) / 60000));
      }
      notify(fill(text("cart-expiring"), { product: data.product_name, minutes: left }),
        text("go-cart"), data.url || text("cart-url"));
    } else if (name === "payment.confirmed" && data.order_id) {
      notify(fill(text("payment-confirmed"), { order: data.order_id }),
        text("go-order"), orderUrl(data.order_id));
    } else if (name === "order.updated" && ORDER_TEXTS[data.status]) {
      notify(fill(text(ORDER_TEXTS[data.status]), { order: data.order_id }),
        text("go-order"), orderUrl(data.order_id));
    }
  }

  // Store cards: `data-open-variants` options were buyable when the page was rendered; a
  // card shows 품절 when the product is sold out by hand or every one of them ran out.
  var soldVariants = {};  // product id → {variant id: true}
  function cards(productId) {
    return document.querySelectorAll('.product-card[data-product-id="' + productId + '"]');
  }
  function setSoldOut(card, soldOut) {
    var badge = card.querySelector("[data-sold-out-badge]");
    if (soldOut && !badge) {
      var old = card.querySelector(".thumb-badge");
      if (old) old.remove();
      badge = document.createElement("span");
      badge.className = "badge badge-soldout thumb-badge";
      badge.setAttribute("data-sold-out-badge", "");
      badge.setAttribute("data-live-sold-out", "");
      badge.textContent = text("sold-out");
      var thumb = card.querySelector(".product-thumb");
      if (thumb) thumb.appendChild(badge);
    } else if (!soldOut && badge && badge.hasAttribute("data-live-sold-out")) {
      badge.remove();  // only a badge this page added; the server's own stays until reload
    }
  }
  function variantState(productId, variantId, gone) {
    var set = soldVariants[productId] = soldVariants[productId] || {};
    if (gone) set[variantId] = true; else delete set[variantId];
    Array.prototype.forEach.call(cards(productId), function (card) {
      var open = parseInt(card.getAttribute("data-open-variants"), 10) || 0;
      setSoldOut(card, open > 0 && Object.keys(set).length >= open);
    });
  }
  function onStoreEvent(name, data) {
    var id = data.product_id;
    if (!id) return;
    if (name === "product.sold_out") {
      if (data.variant_id) variantState(id, data.variant_id, true);
      else Array.prototype.forEach.call(cards(id), function (card) { setSoldOut(card, true); });
    } else if (name === "stock.changed" && data.variant_id) {
      variantState(id, data.variant_id, !(data.available > 0));
    } else if (name === "product.updated" && data.status === "SOLD_OUT") {
      Array.prototype.forEach.call(cards(id), function (card) { setSoldOut(card, true); });
    } else if (name === "product.deleted") {
      Array.prototype.forEach.call(cards(id), function (card) { card.hidden = true; });
    }
  }

  var USER_EVENTS = {
    "waitlist.promoted": 1, "cart.expiring": 1, "payment.confirmed": 1, "order.updated": 1
  };
  var FINAL_CLOSES = { 4001: 1, 4002: 1, 4400: 1, 4401: 1 };  // account closed / nothing to send
  var attempt = 0;
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + text("ws-path") + (wantsStore ? "?store=1" : "");
    var socket;
    try { socket = new WebSocket(url); } catch (e) { retry(); return; }
    body.setAttribute("data-events-socket", "connecting");
    socket.onopen = function () { attempt = 0; body.setAttribute("data-events-socket", "open"); };
    socket.onmessage = function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (frame.type !== "event") return;
      var data = frame.data || {};
      if (USER_EVENTS[frame.event]) onUserEvent(frame.event, data);
      else if (wantsStore) onStoreEvent(frame.event, data);
    };
    socket.onclose = function (event) {
      body.setAttribute("data-events-socket", "closed");
      if (!FINAL_CLOSES[event.code]) retry();
    };
  }
  function retry() {
    attempt += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(attempt, 5)));
    setTimeout(connect, delay / 2 + Math.random() * delay / 2);
  }
  connect();
})();
