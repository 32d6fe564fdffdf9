// The queue by keyboard, as in a mail client: j/k move a visible focus between rows, Enter opens the
// ticket, x picks the row for a bulk action, a accepts, r/d/e/n open the reassign, de-escalate,
// escalate and note forms; in an open form Esc closes it and Ctrl+Enter sends it; ? shows the help.
// Letters are never taken while the lead types in a field (a note, the agent search, a filter).
(function () {
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue-body tbody.queue-row")); }
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) && el.type !== "checkbox";
  }
  var current = null;  // the ticket id of the row with the keyboard focus: rows are swapped under it

  function currentRow() {
    var row = current && document.getElementById("ticket-" + current);
    if (row) return row;
    var focused = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("tbody.queue-row") : null;
    return focused;
  }

  function focusRow(row) {
    if (!row) return;
    document.querySelectorAll("tbody.queue-row.kbd-current").forEach(function (r) { r.classList.remove("kbd-current"); });
    row.classList.add("kbd-current");
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
    current = row.dataset.ticket;
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(currentRow());
    index = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    focusRow(all[index]);
  }

  function press(row, key) {
    var button = row && row.querySelector('button[data-key="' + key + '"]');
    if (!button) return false;
    // A row just swapped in gets its htmx handlers only once it settles; a fast key must not fall
    // in between (processing twice is harmless).
    if (window.htmx) htmx.process(button);
    button.click();  // htmx's own click handler: the same request as with the mouse
    return true;
  }

  // A modal <dialog>: the browser keeps Tab inside it, and Esc closes it (its "close" event then gives
  // the focus back to the row).
  function help(show) {
    var box = document.getElementById("kbd-help");
    if (!box || box.open === show) return;
    if (show) {
      box.showModal();
      box.querySelector("[data-help-close]").focus();
    } else {
      box.close();
    }
  }
  var helpDialog = document.getElementById("kbd-help");
  if (helpDialog) helpDialog.addEventListener("close", function () {
    if (currentRow()) focusRow(currentRow());
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var form = target.closest ? target.closest("tr.row-form") : null;
    var helpBox = document.getElementById("kbd-help");
    if (event.key === "Tab" && helpBox && helpBox.open) {
      // A modal dialog still lets Tab leave the page for the browser's own controls; the help has one
      // control, so Tab stays on it.
      helpBox.querySelector("[data-help-close]").focus();
      event.preventDefault();
      return;
    }
    if (event.key === "Escape") {
      if (helpBox && helpBox.open) { help(false); event.preventDefault(); return; }
      if (form) {
        // The Close button's request, sent on its own: a click would be dropped while the form's agent
        // search is on its way (htmx syncs requests within a form).
        var close = form.querySelector(".form-buttons button[hx-get]");
        var tbody = form.closest("tbody.queue-row");
        current = tbody.dataset.ticket;
        if (close && window.htmx) {
          htmx.ajax("GET", close.getAttribute("hx-get"), { target: "#" + tbody.id, swap: "outerHTML" });
          event.preventDefault();
        }
        return;
      }
      var open = target.closest ? target.closest("details.more[open]") : null;
      if (open) { open.open = false; open.querySelector("summary").focus(); event.preventDefault(); }
      return;
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form) {
      var body = form.querySelector("form");
      if (body) { body.requestSubmit(); event.preventDefault(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(target)) return;
    if (helpBox && helpBox.open) return;
    var row = currentRow();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "?": help(true); break;
      case "Enter":
        // Only from the row itself: on a button or a link, Enter does what that one does.
        if (!row || target !== row) return;
        window.location.href = row.dataset.href;
        break;
      case "x": {
        var box = row && row.querySelector("input.pick");
        if (!box) return;
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        break;
      }
      case "a": case "r": case "d": case "e": case "n":
        if (!press(row, event.key)) return;
        break;
      default: return;
    }
    event.preventDefault();
  });

  // The row keeps the keyboard focus across the swaps that replace it (an action, a poll).
  document.addEventListener("htmx:afterSettle", function () {
    var row = current && document.getElementById("ticket-" + current);
    if (row) row.classList.add("kbd-current");
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-help-open]")) help(true);
    else if (event.target.closest("[data-help-close]")) help(false);
  });
})();
