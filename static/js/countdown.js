// Live countdowns. The server renders each deadline as <span data-deadline="ISO">; this rewrites the text
// every second: time left ("1h 05m 12s"; "2d 3h 05m" when days away), or time overdue ("-12m 03s")
// with the class "overdue".
// <span data-since="ISO"> counts up instead ("waited 14m"). The browser's clock may be off (wall screens
// often are), so the time is the server's: <body data-server-now="ISO"> gives the offset, renewed by
// every htmx swap that carries a newer data-server-now.
(function () {
  var offset = 0;

  function syncOffset(root) {
    var holder = root.querySelector ? root.querySelector("[data-server-now]") : null;
    if (!holder && root.hasAttribute && root.hasAttribute("data-server-now")) holder = root;
    if (holder) offset = Date.parse(holder.getAttribute("data-server-now")) - Date.now();
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function format(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var s = Math.abs(Math.trunc(seconds));
    var days = Math.floor(s / 86400), hours = Math.floor(s % 86400 / 3600);
    var minutes = Math.floor(s % 3600 / 60), secs = s % 60;
    if (days) return sign + days + "d " + hours + "h " + pad(minutes) + "m";
    if (hours) return sign + hours + "h " + pad(minutes) + "m " + pad(secs) + "s";
    return sign + minutes + "m " + pad(secs) + "s";
  }

  function tick() {
    var now = Date.now() + offset;
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = (Date.parse(el.getAttribute("data-deadline")) - now) / 1000;
      el.textContent = format(left);
      el.classList.toggle("overdue", left < 0);
    });
    document.querySelectorAll("[data-since]").forEach(function (el) {
      el.textContent = format((now - Date.parse(el.getAttribute("data-since"))) / 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncOffset(document.body);
    tick();
    setInterval(tick, 1000);
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    syncOffset(event.target);  // the swapped-in element (with outerHTML, detail.target is the removed one)
    tick();
  });
})();
