// Keep keyboard users where they were: a row swapped by an action or a closed form replaces the button
// that had the focus, which would drop the focus back to the top of the page. Move it to the row's
// message when there is one (so a screen reader reads it), else to the row's first button.
// Not every swap has a target element (htmx's history restore has none): those are not a row's.
document.addEventListener("htmx:afterSwap", function (event) {
  var detail = event.detail || {};
  var row = detail.elt && detail.elt.closest ? detail.elt.closest("tbody.queue-row") : null;
  if (!row && detail.target && detail.target.id) row = document.getElementById(detail.target.id);
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

// No poll while the lead has a row's form open or rows picked: the new rows would wipe what they are
// typing or picking. (Here, not as an hx-trigger filter: htmx evaluates those as code, which the
// content security policy forbids.) A poll has no triggering event; the bulk action's refresh
// ("queue-changed") and filters go ahead.
document.addEventListener("htmx:confirm", function (event) {
  var detail = event.detail || {};
  if (!detail.elt || detail.elt.id !== "queue-body" || detail.triggeringEvent) return;
  if (document.querySelector("#queue-body .row-form, .pick:checked")) event.preventDefault();
});

// A poll sent just before the lead opened a row's form or picked a row may answer after it: its new rows
// would wipe the open form (what the lead was typing) or the picks. Drop that answer; the next poll,
// once the form is closed, still carries the old stamp and brings the change.
document.addEventListener("htmx:beforeSwap", function (event) {
  var config = event.detail.requestConfig;
  if (!config || !config.elt || config.elt.id !== "queue-body") return;  // a filter changed: the lead asked
  var trigger = config.triggeringEvent;
  if (trigger && trigger.type === "queue-changed") return;  // a bulk action's own refresh
  if (document.querySelector("#queue-body .row-form, #queue-body .pick:checked")) event.detail.shouldSwap = false;
});

// Bulk: the bar shows while rows are picked; after a bulk action the picks clear and the queue re-reads
// its rows (the server's HX-Trigger), since polling waits while any row is picked.
(function () {
  function picks() { return document.querySelectorAll("#queue-body .pick:checked"); }
  function update() {
    var bar = document.getElementById("bulk");
    if (!bar) return;
    var n = picks().length;
    bar.querySelector(".bulk-count b").textContent = n;
    // Shown while rows are picked, and after a bulk action until its outcome is cleared.
    bar.hidden = !n && !bar.querySelector("#bulk-result").textContent.trim();
  }
  function clear() {
    picks().forEach(function (box) { box.checked = false; });
    update();
  }
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("pick")) update();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-bulk-clear]")) {
      clear();
      document.getElementById("bulk-result").textContent = "";
      update();
    }
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    // Bulk answered: unpick before the queue re-reads (its HX-Trigger fires after this swap).
    if (event.detail.target && event.detail.target.id === "bulk-result" && event.detail.xhr.status < 400) clear();
  });
  document.addEventListener("htmx:afterSwap", update);
  window.queueBulkUpdate = update;
})();

// How long a row has needed attention, and been at its level: <span data-age="ISO">, in minutes ("4d 3h",
// "15h 16m", "7m"), the server's clock (the page's data-server-now), renewed twice a minute and after
// each swap. Seconds would be noise here; the SLA countdowns keep theirs (countdown.js).
(function () {
  function serverOffset() {
    var holder = document.querySelector("#queue-body[data-server-now]") || document.body;
    var at = Date.parse(holder.getAttribute("data-server-now") || "");
    return isNaN(at) ? 0 : at - (window.__queueRenderedAt || Date.now());
  }
  function format(seconds) {
    var minutes = Math.max(0, Math.floor(seconds / 60));
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes % 1440 / 60), mins = minutes % 60;
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + (mins < 10 ? "0" : "") + mins + "m";
    return mins + "m";
  }
  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-age]").forEach(function (el) {
      el.textContent = format((now - Date.parse(el.getAttribute("data-age"))) / 1000);
    });
  }
  var offset = 0;
  function renew() { window.__queueRenderedAt = Date.now(); offset = serverOffset(); tick(); }
  document.addEventListener("DOMContentLoaded", function () { renew(); setInterval(tick, 30000); });
  document.addEventListener("htmx:afterSettle", renew);
})();
