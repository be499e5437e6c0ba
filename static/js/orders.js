// Checkout: the "전액 사용" button fills in the largest usable amount, then the summary refreshes.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-points-all]");
    if (!button) return;
    var form = button.closest("form");
    var summary = form && form.querySelector("#checkout-summary");
    var input = form && form.querySelector("input[name=points]");
    if (!summary || !input) return;
    input.value = summary.getAttribute("data-points-max") || "0";
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
