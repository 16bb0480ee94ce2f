/*
 * The decision-table editor (dmn-js Modeler, loaded before this file, with deploy.js).
 *
 * [data-dmn-editor] holds data-xml-url (the deployed table) and data-save-url. The decision table view
 * opens directly; "Save as new version" posts the XML and the server deploys it with every process
 * that uses the table, or lists the engine's and the domain's errors. window.ecvetDmn is the instance.
 */
(function () {
  "use strict";

  var host = document.querySelector("[data-dmn-editor]");
  if (!host) { return; }
  var canvasBox = host.querySelector("[data-editor-canvas]");
  var saveButton = host.querySelector("[data-save]");
  var resultBox = host.querySelector("[data-deploy-result]");
  var statusBox = host.querySelector("[data-diagram-status]");
  var dirty = false;

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
    statusBox.classList.toggle("alert-error", !!isError);
  }

  if (typeof window.DmnJS !== "function") {
    say("The decision table editor is not installed (run make setup). Upload a DMN file below instead.", true);
    return;
  }

  var editor = new window.DmnJS({ container: canvasBox });
  window.ecvetDmn = editor;

  function openTable() {
    var views = editor.getViews();
    var wanted = host.getAttribute("data-decision-id");
    var table = views.filter(function (v) {
      return v.type === "decisionTable" && (!wanted || v.element.id === wanted);
    })[0] || views.filter(function (v) { return v.type === "decisionTable"; })[0];
    return table ? editor.open(table) : Promise.resolve();
  }

  function save() {
    saveButton.disabled = true;
    window.EcvetDeploy.clear(resultBox);
    say("Validating and deploying…");
    editor.saveXML({ format: true })
      .then(function (out) { return window.EcvetDeploy.post(host.getAttribute("data-save-url"), out.xml); })
      .then(function (result) {
        say("");
        if (result.ok) { dirty = false; }
        window.EcvetDeploy.show(resultBox, result, null);
        host.setAttribute("data-last-save", result.ok ? "saved" : "refused");
      })
      .catch(function (error) { say("Not saved: " + error.message, true); })
      .then(function () { saveButton.disabled = false; });
  }

  saveButton.addEventListener("click", save);
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  say("Loading the deployed table…");
  fetch(host.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("the table could not be loaded (" + response.status + ")"); }
      return response.text();
    })
    .then(function (xml) { return editor.importXML(xml); })
    .then(openTable)
    .then(function () {
      var viewer = editor.getActiveViewer();
      if (viewer) {
        viewer.on("elements.changed", function () { dirty = true; });
      }
      say("");
      saveButton.disabled = false;
      host.setAttribute("data-rendered", "true");
    })
    .catch(function (error) {
      say("The table cannot be edited here: " + error.message, true);
      host.setAttribute("data-render-error", error.message);
    });
})();
