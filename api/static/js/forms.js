// Task forms work without JavaScript; this only moves the keyboard focus where a person needs it next:
// to the error summary after a refused submission, to the new group after "Add another".
(function () {
  "use strict";
  function focusTarget(element) {
    if (!element) { return; }
    var input = element.matches("input, select, textarea, button") ? element
      : element.querySelector("input:not([type=hidden]), select, textarea");
    (input || element).focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); return; }
    var form = document.querySelector("form[data-focus]");
    if (form) { focusTarget(document.getElementById(form.getAttribute("data-focus"))); }
  });
}());
