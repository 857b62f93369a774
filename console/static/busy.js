// A sign of progress while a form is sent: the button pressed says what is happening (its data-busy text) and a
// second press does not send the form twice. The button is not disabled: a disabled button's value is not sent.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.sending === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "yes";
  var button = event.submitter;
  if (button) {
    button.setAttribute("aria-busy", "true");
    button.classList.add("busy");
    button.textContent = button.dataset.busy || "Đang xử lý…";
  }
  document.body.classList.add("sending");
});
// Back from the browser's history, the page is shown as it was left: ready again.
window.addEventListener("pageshow", function () {
  document.body.classList.remove("sending");
  document.querySelectorAll("form[data-sending]").forEach(function (form) { delete form.dataset.sending; });
});
