// Small progressive enhancements shared by every page. No framework; htmx does the rest.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="text">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var text = button.getAttribute("data-copy");
    var done = function () {
      var label = button.textContent;
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
