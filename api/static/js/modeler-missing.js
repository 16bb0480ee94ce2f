/*
 * Before the modeler's ES module runs: if it or a library it imports cannot be loaded (node_modules not
 * installed, a file missing), the module never runs. Module scripts run before DOMContentLoaded, so if
 * by then the module has not marked the modeler (data-modeler-started), this classic script says so in
 * the status line (the catalogue's text in data-labels) and marks it data-render-error; the upload form
 * below keeps working.
 */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var host = document.querySelector("[data-bpmn-modeler]");
    if (!host || host.hasAttribute("data-modeler-started")) { return; }
    var labels = JSON.parse(host.getAttribute("data-labels") || "{}");
    var status = host.querySelector("[data-diagram-status]");
    status.textContent = labels.missing || "";
    status.hidden = false;
    status.classList.add("alert-error");
    host.setAttribute("data-render-error", "modules missing");
  });
})();
