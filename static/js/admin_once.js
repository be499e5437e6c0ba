// Admin forms marked `data-once` submit once: the first submit disables their buttons, so a
// double click sends one request (the services refuse a repeat anyway). A `data-confirm`
// text is asked first (no inline handlers: the CSP allows only this site's scripts).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.dataset.confirm && form.dataset.submitted !== "1" && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.hasAttribute("data-once")) return;
  if (form.dataset.submitted === "1") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "1";
  // Disable after the browser has collected the form's data (a disabled button is not sent).
  setTimeout(() => {
    form.querySelectorAll("button, input[type=submit]").forEach((button) => {
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    });
  }, 0);
});
