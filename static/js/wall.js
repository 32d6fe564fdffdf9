// The wall display's behaviour beside countdown.js (which ticks the times):
// 1. each poll carries the version on screen, so that the server answers an empty 204 when unchanged;
// 2. "Updated 14:05:09 CET" moves on with every answer, 204 included, in the server's time, on a 24-hour
//    clock in the screen's time zone, named (the one clock format of the wall);
// 3. while the server or the network is gone, a banner says so; htmx keeps polling, and the first
//    answer after it comes back removes the banner;
// 4. rows that do not fit on the screen go on pages, each shown for <body data-page-seconds> in turn
//    with a marker ("Page 2 of 6"); never a scroll bar (nobody scrolls a screen on a wall). A new
//    fragment keeps the page on screen, so that a poll does not send the room back to page 1.
(function () {
  var lastUpdated = null;
  var clock = new Intl.DateTimeFormat([], {
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZoneName: "short",
  });
  var paging = { page: 0, pages: 1, pageOf: [] };

  function live() { return document.querySelector("#wall [data-version]"); }

  function showUpdated(date) {
    lastUpdated = date;
    document.querySelectorAll("[data-updated], [data-updated-copy]").forEach(function (el) {
      el.textContent = clock.format(date);
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

  function rows() {
    var list = document.querySelector("[data-rows]");
    return list ? Array.prototype.slice.call(list.querySelectorAll("[data-row]")) : [];
  }

  // Which page each row is on: measured with every row shown, a new page where a row would overflow
  // the list (a row is never cut in half).
  function paginate() {
    var list = document.querySelector("[data-rows]");
    var all = rows();
    all.forEach(function (row) { row.hidden = false; });
    paging.pageOf = [];
    var page = 0, start = null, height = list ? list.clientHeight : 0;
    all.forEach(function (row) {
      var box = row.getBoundingClientRect();
      if (start === null) start = box.top;
      if (box.bottom - start > height + 1 && box.top > start) { page += 1; start = box.top; }
      paging.pageOf.push(page);
    });
    paging.pages = page + 1;
    paging.page = Math.min(paging.page, paging.pages - 1);
    showPage();
  }

  function showPage() {
    rows().forEach(function (row, i) { row.hidden = paging.pageOf[i] !== paging.page; });
    var marker = document.querySelector("[data-page-marker]");
    if (!marker) return;
    marker.hidden = paging.pages < 2;
    marker.querySelector("[data-page-text]").textContent = "Page " + (paging.page + 1) + " of " + paging.pages;
    var dots = marker.querySelector("[data-page-dots]");
    dots.textContent = "";
    for (var i = 0; i < paging.pages; i += 1) {
      var dot = document.createElement("span");
      dot.className = i === paging.page ? "dot is-current" : "dot";
      dots.appendChild(dot);
    }
  }

  function nextPage() {
    if (paging.pages < 2) return;
    paging.page = (paging.page + 1) % paging.pages;
    showPage();
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
    paginate();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var updated = document.querySelector("[data-updated]");
    showUpdated(updated ? new Date(updated.getAttribute("datetime")) : new Date());
    paginate();
    var seconds = Number(document.body.getAttribute("data-page-seconds")) || 15;
    setInterval(nextPage, seconds * 1000);
  });
  window.addEventListener("resize", paginate);
})();
