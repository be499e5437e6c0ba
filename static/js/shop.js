/* Shop: cart countdowns (mm:ss, red under 60 s), next-live countdown, option sheet limits,
   quantity stepper, the logged-out add explanation. */
(function () {
  "use strict";

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatLeft(seconds) {
    if (seconds >= 3600) {
      var h = Math.floor(seconds / 3600);
      return h + ":" + pad(Math.floor((seconds % 3600) / 60)) + ":" + pad(seconds % 60);
    }
    return pad(Math.floor(seconds / 60)) + ":" + pad(seconds % 60);
  }

  var refreshQueued = false;

  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-expires-at]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.expiresAt) - now) / 1000));
      el.textContent = left > 0 ? formatLeft(left) : "시간 만료";
      el.classList.toggle("urgent", left < 60);
      if (left === 0 && !el.dataset.done) {
        el.dataset.done = "1";
        var body = document.getElementById("cart-body");
        if (body && window.htmx && !refreshQueued) {
          refreshQueued = true;
          setTimeout(function () {
            refreshQueued = false;
            window.htmx.ajax("GET", window.location.pathname, { target: "#cart-body", select: "#cart-body", swap: "outerHTML" });
          }, 1500);
        }
      }
    });
    document.querySelectorAll("[data-countdown-to]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.dataset.countdownTo) - now) / 1000);
      if (left <= 0) { el.textContent = "곧 시작합니다"; return; }
      var days = Math.floor(left / 86400);
      el.textContent = (days > 0 ? days + "일 " : "") + formatLeft(left % 86400);
    });
  }

  function syncSheet(sheet) {
    var picked = sheet.querySelector("input[name=variant_id]:checked");
    var qty = sheet.querySelector(".qty-input");
    var note = sheet.querySelector("[data-available-note]");
    var add = sheet.querySelector("[data-add-button]");
    var wait = sheet.querySelector("[data-waitlist-button]");
    if (!picked || !qty) return;
    var available = parseInt(picked.dataset.available || "0", 10);
    var wanted = parseInt(qty.value || "1", 10) || 1;
    qty.max = String(Math.max(available, 1));
    if (note) note.textContent = available > 0 ? available + "개 구매 가능" : "품절";
    var price = sheet.querySelector(".sheet-price .price");
    if (price && picked.dataset.price) price.textContent = picked.dataset.price;
    var short = wanted > available;
    if (add) add.hidden = available < 1;
    if (wait) wait.hidden = !short;
    sheet.querySelectorAll("[data-step]").forEach(function (button) {
      var step = parseInt(button.dataset.step, 10);
      button.disabled = step < 0 ? wanted <= 1 : wanted >= Math.max(available, 1);
    });
  }

  // Quantity stepper: − / + around the number input, kept within 1 … available.
  function step(sheet, button) {
    var qty = sheet.querySelector(".qty-input");
    if (!qty) return;
    var max = parseInt(qty.max || "1", 10) || 1;
    var value = (parseInt(qty.value || "1", 10) || 1) + parseInt(button.dataset.step, 10);
    qty.value = String(Math.min(Math.max(value, 1), max));
    syncSheet(sheet);
  }

  // Logged out (or no profile yet): the add buttons say why and link to the login page, whose
  // `next` comes back to this page with the chosen option (and, on the live page, the product).
  function explainLogin(sheet) {
    var box = sheet.querySelector("[data-login-needed]");
    var link = sheet.querySelector("[data-login-link]");
    if (!box) return;
    var picked = sheet.querySelector("input[name=variant_id]:checked");
    if (link) {
      var params = new URLSearchParams();
      if (document.getElementById("live-room")) params.set("product", sheet.dataset.productId);
      if (picked) params.set("variant", picked.value);
      var back = window.location.pathname + (params.toString() ? "?" + params.toString() : "");
      var url = new URL(link.getAttribute("href"), window.location.href);
      url.searchParams.set("next", back);
      link.setAttribute("href", url.pathname + url.search);
    }
    box.hidden = false;
  }

  function bindSheets(root) {
    (root || document).querySelectorAll("[data-product-sheet]").forEach(function (sheet) {
      if (sheet.dataset.bound) return;
      sheet.dataset.bound = "1";
      sheet.addEventListener("change", function () { syncSheet(sheet); });
      sheet.addEventListener("input", function () { syncSheet(sheet); });
      sheet.addEventListener("click", function (event) {
        var stepper = event.target.closest("[data-step]");
        if (stepper) { event.preventDefault(); step(sheet, stepper); return; }
        if (event.target.closest("[data-login-required]")) { event.preventDefault(); explainLogin(sheet); }
      });
      syncSheet(sheet);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    bindSheets(document);
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function (event) { bindSheets(event.target); tick(); });
})();
