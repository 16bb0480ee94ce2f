/*
 * BPMN diagrams on monitor and owner pages (bpmn-js NavigatedViewer, loaded before this file).
 *
 * Every element with data-bpmn-viewer gets a diagram:
 *   data-xml-url   where the BPMN XML is (same origin, session cookie)
 *   data-states    optional JSON {elementId: "completed"|"active"|"waiting"|"failed"} -> markers hl-<state>
 *   data-flows     optional JSON [flowId] -> marker hl-flow-taken
 *   data-heat      optional JSON [{element_id, kind, count, overdue}] -> count badges and heat-<1..5> markers
 * When done the element carries data-rendered="true" (or data-render-error), so tests and people know.
 * Zoom buttons ([data-zoom-controls] beside the diagram, see diagram-controls.js) zoom and fit it.
 * The page also shows the same facts as text (tables, lists): the diagram adds to them, never replaces them.
 */
(function () {
  "use strict";

  function parse(el, name, fallback) {
    var raw = el.getAttribute(name);
    if (!raw) { return fallback; }
    try { return JSON.parse(raw); } catch (e) { return fallback; }
  }

  function status(el, text, isError) {
    var box = el.parentNode.querySelector("[data-diagram-status]");
    if (!box) { return; }
    box.textContent = text || "";
    box.hidden = !text;
    box.classList.toggle("alert-error", !!isError);
  }

  function markStates(viewer, states, flows) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    Object.keys(states).forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "hl-" + states[id]); }
    });
    flows.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, "hl-flow-taken"); }
    });
  }

  function markHeat(viewer, cells) {
    var canvas = viewer.get("canvas");
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var totals = {};
    var kinds = {};
    cells.forEach(function (cell) {
      totals[cell.element_id] = (totals[cell.element_id] || 0) + cell.count;
      (kinds[cell.element_id] = kinds[cell.element_id] || []).push(cell.kind);
    });
    var max = 0;
    Object.keys(totals).forEach(function (id) { max = Math.max(max, totals[id]); });
    Object.keys(totals).forEach(function (id) {
      if (!registry.get(id)) { return; }
      var level = Math.max(1, Math.ceil((totals[id] / max) * 5));
      canvas.addMarker(id, "heat-" + level);
      if (kinds[id].indexOf("incident") >= 0) { canvas.addMarker(id, "heat-incident"); }
      var badge = document.createElement("span");
      badge.className = "heat-badge heat-badge-" + level;
      badge.setAttribute("data-heat-element", id);
      badge.textContent = String(totals[id]);
      badge.title = totals[id] + " waiting here (" + kinds[id].join(", ") + ")";
      overlays.add(id, "heat", { position: { top: -14, right: 14 }, html: badge });
    });
  }

  function render(el) {
    if (typeof window.BpmnJS !== "function") {
      status(el, "The diagram viewer is not installed (run make setup).", true);
      el.setAttribute("data-render-error", "library missing");
      return;
    }
    var viewer = new window.BpmnJS({ container: el });
    status(el, "Loading the diagram…");
    fetch(el.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("the diagram could not be loaded (" + response.status + ")"); }
        return response.text();
      })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        if (window.EcvetDiagram) {
          window.EcvetDiagram.show(viewer);
          window.EcvetDiagram.bind(el.parentNode.querySelector("[data-zoom-controls]"), viewer);
        } else {
          viewer.get("canvas").zoom("fit-viewport", "auto");
        }
        markStates(viewer, parse(el, "data-states", {}), parse(el, "data-flows", []));
        markHeat(viewer, parse(el, "data-heat", []));
        status(el, "");
        el.setAttribute("data-rendered", "true");
      })
      .catch(function (error) {
        status(el, "The diagram cannot be shown: " + error.message, true);
        el.setAttribute("data-render-error", error.message);
      });
    el.ecvetViewer = viewer;
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-bpmn-viewer]"), render);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
