/*
 * Zoom controls shared by every BPMN diagram (viewer pages and the modeler): the buttons are in the page
 * ([data-zoom="in"|"out"|"fit"] inside the given box, labelled from the message catalogue); this binds
 * them to a bpmn-js instance. "Fit" shows the whole diagram, leaving `inset` free ({left, top} in pixels:
 * the modeler's palette and minimap; or a function giving it) so no shape hides under them. Ctrl/Cmd +
 * wheel zooms as well.
 */
(function () {
  "use strict";

  function fit(diagram, inset) {
    var canvas = diagram.get("canvas");
    canvas.zoom("fit-viewport", "auto");
    var box = canvas.viewbox();
    var inner = box.inner;
    if (!inner.width || !inner.height) { return; }
    var left = (inset && inset.left) || 0;
    var top = (inset && inset.top) || 0;
    var margin = 16;
    var width = Math.max(box.outer.width - left - 2 * margin, 50);
    var height = Math.max(box.outer.height - top - 2 * margin, 50);
    var scale = Math.min(width / inner.width, height / inner.height, 1.2);
    canvas.viewbox({
      x: inner.x - (left + margin + (width - inner.width * scale) / 2) / scale,
      y: inner.y - (top + margin + (height - inner.height * scale) / 2) / scale,
      width: box.outer.width / scale,
      height: box.outer.height / scale
    });
  }

  /* The first view: the whole diagram when it is readable so; a large one (the 70-element mobility
     process) starts at a readable scale at its top left instead: the minimap and "Fit" give the rest. */
  var READABLE = 0.6;

  function show(diagram, inset) {
    fit(diagram, inset);
    var canvas = diagram.get("canvas");
    var box = canvas.viewbox();
    if (box.scale >= READABLE || !box.inner.width) { return; }
    var margin = 16;
    canvas.viewbox({
      x: box.inner.x - (((inset && inset.left) || 0) + margin) / READABLE,
      y: box.inner.y - (((inset && inset.top) || 0) + margin) / READABLE,
      width: box.outer.width / READABLE,
      height: box.outer.height / READABLE
    });
  }

  function bind(box, diagram, inset) {
    if (!box) { return; }
    Array.prototype.forEach.call(box.querySelectorAll("[data-zoom]"), function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-zoom");
        if (how === "fit") { fit(diagram, typeof inset === "function" ? inset() : inset); return; }
        diagram.get("zoomScroll").stepZoom(how === "in" ? 1 : -1);
      });
      button.disabled = false;
    });
  }

  window.EcvetDiagram = { fit: fit, show: show, bind: bind };
})();
