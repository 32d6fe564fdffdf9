// The policy editor: remember which fields a person has touched (left, or changed), in the form's
// hidden `touched` input, so that the server's check as one types (hx-trigger on the form) shows the
// errors of those fields only, never of a half-filled form not yet reached.
(function () {
  "use strict";

  function setUp() {
    var form = document.querySelector("form.policy-form");
    if (!form) return;
    var touched = form.querySelector("[data-touched]");
    var names = new Set(touched.value.split(" ").filter(Boolean));

    function mark(event) {
      var name = event.target && event.target.name;
      if (!name || event.target.type === "submit" || event.target.type === "hidden" || names.has(name)) return;
      names.add(name);
      touched.value = Array.from(names).join(" ");
    }
    // Capture: runs before htmx, on the same event, reads the form.
    form.addEventListener("focusout", mark, true);
    form.addEventListener("change", mark, true);
    // A double click saves once: the buttons are disabled once the form is on its way (after this
    // tick, so that the button pressed is still sent with it).
    function disable(off) {
      form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = off; });
    }
    form.addEventListener("submit", function () { setTimeout(function () { disable(true); }, 0); });
    // Back to a page the browser kept: its buttons work again.
    window.addEventListener("pageshow", function () { disable(false); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
