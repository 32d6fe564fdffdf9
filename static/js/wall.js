// The wall display's behaviour beside countdown.js (which ticks the times):
// 1. each poll carries the version on screen, so that the server answers an empty 204 when unchanged;
// 2. "Updated hh:mm:ss" moves on with every answer, 204 included, in the server's time;
// 3. while the server or the network is gone, a banner says so; htmx keeps polling, and the first
//    answer after it comes back removes the banner;
// 4. rows that do not fit on the screen are hidden whole and counted ("+ 4 more escalations").
(function () {
  var lastUpdated = null;

  function live() { return document.querySelector("#wall [data-version]"); }

  function timeText(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function showUpdated(date) {
    lastUpdated = date;
    document.querySelectorAll("[data-updated], [data-updated-copy]").forEach(function (el) {
      el.textContent = timeText(date);
      el.setAttribute("datetime", date.toISOString());
    });
  }

  function serverDate(xhr) {
    var header = xhr && xhr.getResponseHeader("Date");
    var parsed = header ? Date.parse(header) : NaN;
    return isNaN(parsed) ? new Date() : new Date(parsed);
  }

  function setOffline(offline) {
    var banner = document.querySelector("[data-offline]");
    if (banner) banner.hidden = !offline;
    document.body.classList.toggle("is-offline", offline);
    if (offline && lastUpdated) showUpdated(lastUpdated);
  }

  function fitRows() {
    var list = document.querySelector("[data-rows]");
    var more = document.querySelector("[data-more]");
    if (!list || !more) return;
    var rows = list.querySelectorAll("[data-row]");
    // Measured with the "+ N more" line shown, as it will be if anything is clipped.
    more.hidden = false;
    rows.forEach(function (row) { row.hidden = false; });
    var bottom = list.getBoundingClientRect().bottom;
    var clipped = 0;
    // Once a row does not fit, neither do the ones after it (hiding it would pull them up).
    rows.forEach(function (row) {
      if (clipped || row.getBoundingClientRect().bottom > bottom + 1) { row.hidden = true; clipped += 1; }
    });
    var total = clipped + Number(more.getAttribute("data-hidden-rows") || 0);
    more.querySelector("[data-more-count]").textContent = total;
    more.hidden = total === 0;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var shown = live();
    if (shown) event.detail.parameters.v = shown.getAttribute("data-version");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail.xhr;
    if (event.detail.successful && xhr && xhr.status) {
      setOffline(false);
      showUpdated(serverDate(xhr));
    } else {
      setOffline(true);  // network error, timeout, or the server failing (5xx)
    }
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (lastUpdated) showUpdated(lastUpdated);
    fitRows();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var updated = document.querySelector("[data-updated]");
    showUpdated(updated ? new Date(updated.getAttribute("datetime")) : new Date());
    fitRows();
  });
  window.addEventListener("resize", fitRows);
})();
