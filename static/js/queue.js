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
