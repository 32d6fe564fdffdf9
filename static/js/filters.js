// Filters follow the URL, always (<form data-follows-url>): Back and Forward restore the rows from htmx's
// history cache (or the browser's), whose <select>s come back with the values they were first rendered
// with, not the URL's; so every field is set from the URL again once the history is restored.
(function () {
  function syncForm(form, params) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.type === "hidden" || field.type === "button" || field.type === "submit") return;
      if (field.type === "checkbox") field.checked = params.has(field.name) && params.get(field.name) !== "";
      else field.value = params.get(field.name) || "";
      if (field.tagName === "SELECT" && field.selectedIndex < 0) field.selectedIndex = 0;  // a stale value
    });
  }
  function syncFilters() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-follows-url]").forEach(function (form) { syncForm(form, params); });
  }
  document.addEventListener("htmx:historyRestore", syncFilters);
  window.addEventListener("popstate", function () { setTimeout(syncFilters, 0); });
  window.addEventListener("pageshow", syncFilters);
  document.addEventListener("DOMContentLoaded", syncFilters);
})();
