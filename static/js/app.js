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
})();
