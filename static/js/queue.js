// Keep keyboard users where they were: a row swapped by an action or a closed form replaces the button
// that had the focus, which would drop the focus back to the top of the page. Move it to the row's
// message when there is one (so a screen reader reads it), else to the row's first button.
document.addEventListener("htmx:afterSwap", function (event) {
  var row = event.detail.elt && event.detail.elt.closest ? event.detail.elt.closest("tbody.queue-row") : null;
  if (!row) row = document.getElementById(event.detail.target.id);
  if (!row || !row.matches || !row.matches("tbody.queue-row")) return;
  if (document.activeElement && document.activeElement !== document.body && row.contains(document.activeElement)) return;
  var target = row.querySelector(".action-result") || row.querySelector("[autofocus]") || row.querySelector("button");
  if (target) {
    if (target.classList.contains("action-result")) target.setAttribute("tabindex", "-1");
    target.focus();
  }
});

// A request that fails outright (the server or the network is down, or a 5xx, which is not swapped)
// must not fail silently: say so at the top of the page until a later request gets through. The
// page's polling keeps trying by itself.
(function () {
  function banner() { return document.getElementById("connection-status"); }
  document.addEventListener("htmx:sendError", function () {
    var el = banner();
    if (el) { el.textContent = "Cannot reach the console. Retrying; nothing you did was lost."; el.hidden = false; }
  });
  document.addEventListener("htmx:responseError", function (event) {
    var el = banner();
    if (el && event.detail.xhr.status >= 500) {
      el.textContent = "The console failed to answer (" + event.detail.xhr.status + "). Please try again.";
      el.hidden = false;
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = banner();
    if (el && event.detail.successful) el.hidden = true;
  });
})();
