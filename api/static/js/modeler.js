/*
 * The in-browser BPMN modeler: bpmn-js Modeler (its UMD bundle, loaded before this module, with deploy.js
 * and diagram-controls.js), its properties panel with our provider for the SpiffWorkflow extensions the
 * engine reads (modeler/spiff-provider.js, modeler/spiffworkflow-moddle.js), and a minimap. The ES
 * modules come from node_modules through the page's import map (api/web/vendor.py).
 *
 * [data-bpmn-modeler] holds data-xml-url (the latest version's diagram), data-save-url, data-labels
 * (the catalogue's modeler.* texts; the libraries' own words through modeler/translate.js) and
 * data-form-files (the bundle's form files, offered by the form file pickers). "Save as new version"
 * posts the edited XML; the engine validates the whole bundle and either deploys version n+1 or answers
 * with errors, each naming its element: those elements get the marker "deploy-error" and a badge in the
 * diagram, and the list under the toolbar lets a keyboard user jump to each one (which also opens its
 * properties; the first is selected at once).
 * window.ecvetModeler is the bpmn-js instance (its modeling API is what the browser tests drive).
 */
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import MinimapModule from "diagram-js-minimap";
import spiffworkflow from "./modeler/spiffworkflow-moddle.js";
import spiffProviderModule from "./modeler/spiff-provider.js";
import translateModule from "./modeler/translate.js";
import * as loopRefs from "./modeler/loop-refs.js";


var host = document.querySelector("[data-bpmn-modeler]");
if (host) { start(host); }

function start(host) {
  host.setAttribute("data-modeler-started", "");  // the libraries loaded (see modeler-missing.js)
  var canvasBox = host.querySelector("[data-modeler-canvas]");
  var panelBox = host.querySelector("[data-properties-panel]");
  var saveButton = host.querySelector("[data-save]");
  var resultBox = host.querySelector("[data-deploy-result]");
  var statusBox = host.querySelector("[data-diagram-status]");
  var labels = JSON.parse(host.getAttribute("data-labels") || "{}");
  var formFiles = JSON.parse(host.getAttribute("data-form-files") || "[]");
  var marked = [];
  var dirty = false;
  var keptLoopRefs = {};  // variable names bpmn-js would drop on import (modeler/loop-refs.js)

  /* "Fit" keeps the diagram right of the palette (its width as drawn, one or two columns) and below the
     open minimap. */
  function inset() {
    var palette = canvasBox.querySelector(".djs-palette");
    var minimap = canvasBox.querySelector(".djs-minimap.open");
    return { left: palette ? palette.offsetWidth : 0, top: minimap ? minimap.offsetTop + minimap.offsetHeight : 0 };
  }

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
    statusBox.classList.toggle("alert-error", !!isError);
  }

  if (typeof window.BpmnJS !== "function") {
    say(labels.missing, true);
    return;
  }

  var modeler = new window.BpmnJS({
    container: canvasBox,
    propertiesPanel: { parent: panelBox },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, spiffProviderModule(labels, formFiles),
                        MinimapModule, translateModule(labels)],
    moddleExtensions: { spiffworkflow: spiffworkflow }
  });
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
    say(labels.saving);
    modeler.saveXML({ format: true })
      .then(function (out) {
        return window.EcvetDeploy.post(host.getAttribute("data-save-url"), loopRefs.restore(out.xml, keptLoopRefs));
      })
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
        if (!result.ok && marked.length) {
          // The first element in error is selected, so its properties are open beside the list.
          modeler.get("selection").select(modeler.get("elementRegistry").get(marked[0]));
        }
        host.setAttribute("data-last-save", result.ok ? "saved" : "refused");
      })
      .catch(function (error) { say(labels.not_saved + " " + error.message, true); })
      .then(function () { saveButton.disabled = false; });
  }

  saveButton.addEventListener("click", save);
  modeler.on("commandStack.changed", function () { dirty = true; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  window.EcvetDiagram.bind(host.querySelector("[data-zoom-controls]"), modeler, inset);

  say(labels.loading);
  fetch(host.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(labels.load_failed + " (" + response.status + ")"); }
      return response.text();
    })
    .then(function (xml) {
      keptLoopRefs = loopRefs.remember(xml);
      return modeler.importXML(xml);
    })
    .then(function () {
      if (canvasBox.offsetWidth >= 640) { modeler.get("minimap").open(); }  // on a phone it would cover the canvas
      window.EcvetDiagram.show(modeler, inset());
      say("");
      saveButton.disabled = false;
      host.setAttribute("data-rendered", "true");
    })
    .catch(function (error) {
      say(labels.cannot_edit + " " + error.message, true);
      host.setAttribute("data-render-error", error.message);
    });
}
