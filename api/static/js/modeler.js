/*
 * The in-browser BPMN modeler (bpmn-js Modeler, loaded before this file, with deploy.js).
 *
 * [data-bpmn-modeler] holds data-xml-url (the latest version's diagram) and data-save-url. "Save as new
 * version" posts the edited XML; the engine validates the whole bundle and either deploys version n+1
 * or answers with errors, each naming its element: those elements get the marker "deploy-error" and a
 * badge in the diagram, and the list under the toolbar lets a keyboard user jump to each one.
 * window.ecvetModeler is the bpmn-js instance (its modeling API is what the browser tests drive).
 */
(function () {
  "use strict";

  var host = document.querySelector("[data-bpmn-modeler]");
  if (!host) { return; }
  var canvasBox = host.querySelector("[data-modeler-canvas]");
  var saveButton = host.querySelector("[data-save]");
  var resultBox = host.querySelector("[data-deploy-result]");
  var statusBox = host.querySelector("[data-diagram-status]");
  var marked = [];
  var dirty = false;

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
    statusBox.classList.toggle("alert-error", !!isError);
  }

  if (typeof window.BpmnJS !== "function") {
    say("The modeler is not installed (run make setup). Upload a BPMN file below instead.", true);
    return;
  }

  var modeler = new window.BpmnJS({ container: canvasBox });
  window.ecvetModeler = modeler;

  function unmark() {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    marked.forEach(function (id) { if (registry.get(id)) { canvas.removeMarker(id, "deploy-error"); } });
    modeler.get("overlays").remove({ type: "deploy-error" });
    marked = [];
  }

  function mark(errors) {
    var canvas = modeler.get("canvas");
    var registry = modeler.get("elementRegistry");
    var overlays = modeler.get("overlays");
    errors.forEach(function (error) {
      var id = error.element_id;
      if (!id || !registry.get(id) || marked.indexOf(id) >= 0) { return; }
      canvas.addMarker(id, "deploy-error");
      var badge = document.createElement("span");
      badge.className = "deploy-error-badge";
      badge.setAttribute("data-error-element", id);
      badge.textContent = "!";
      badge.title = error.message;
      overlays.add(id, "deploy-error", { position: { top: -12, left: -12 }, html: badge });
      marked.push(id);
    });
  }

  function reveal(id) {
    var element = modeler.get("elementRegistry").get(id);
    if (!element) { return; }
    modeler.get("canvas").scrollToElement(element);
    modeler.get("selection").select(element);
    canvasBox.focus();
  }

  function save() {
    saveButton.disabled = true;
    unmark();
    window.EcvetDeploy.clear(resultBox);
    say("Validating and deploying…");
    modeler.saveXML({ format: true })
      .then(function (out) { return window.EcvetDeploy.post(host.getAttribute("data-save-url"), out.xml); })
      .then(function (result) {
        say("");
        if (result.ok) {
          dirty = false;
          (result.body.versions || []).forEach(function (v) {
            if (v.key !== host.getAttribute("data-process-key")) { return; }
            var current = document.querySelector("[data-current-version]");
            var next = document.querySelector("[data-next-version]");
            if (current) { current.textContent = String(v.version); }
            if (next) { next.textContent = String(v.version + 1); }
          });
        } else if (Array.isArray(result.body.errors)) {
          mark(result.body.errors);
        }
        window.EcvetDeploy.show(resultBox, result, reveal);
        host.setAttribute("data-last-save", result.ok ? "saved" : "refused");
      })
      .catch(function (error) { say("Not saved: " + error.message, true); })
      .then(function () { saveButton.disabled = false; });
  }

  saveButton.addEventListener("click", save);
  modeler.on("commandStack.changed", function () { dirty = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  say("Loading the latest version…");
  fetch(host.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("the diagram could not be loaded (" + response.status + ")"); }
      return response.text();
    })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(function () {
      modeler.get("canvas").zoom("fit-viewport", "auto");
      say("");
      saveButton.disabled = false;
      host.setAttribute("data-rendered", "true");
    })
    .catch(function (error) {
      say("The diagram cannot be edited here: " + error.message, true);
      host.setAttribute("data-render-error", error.message);
    });
})();
