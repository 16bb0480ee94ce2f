/*
 * The decision-table editor (dmn-js Modeler from its ES modules, see dmn/modeler.js, run before this
 * deferred file, with deploy.js).
 *
 * [data-dmn-editor] holds data-xml-url (the deployed table), data-save-url and data-texts (the status
 * words, from the catalogue, so they follow the page's language). The decision table view
 * opens directly; "Save as new version" posts the XML and the server deploys it with every process
 * that uses the table, or lists the engine's and the domain's errors. window.ecvetDmn is the instance.
 *
 * Text columns show plain values (dmn-plain.js quotes them again on save), so dmn-js's own string
 * editor, which reads and writes quoted FEEL strings, is switched off. A column with allowed values
 * (DMN inputValues/outputValues) offers them as a choice list ([data-cell-choices]) for the cell
 * being edited.
 */
(function () {
  "use strict";

  var host = document.querySelector("[data-dmn-editor]");
  if (!host) { return; }
  var canvasBox = host.querySelector("[data-editor-canvas]");
  var saveButton = host.querySelector("[data-save]");
  var resultBox = host.querySelector("[data-deploy-result]");
  var statusBox = host.querySelector("[data-diagram-status]");
  var choiceBox = host.querySelector("[data-cell-choices]");
  var choiceLabel = choiceBox.querySelector("[data-cell-choices-label]");
  var choiceSelect = choiceBox.querySelector("select");
  var plain = window.EcvetDmnPlain;
  var texts = JSON.parse(host.getAttribute("data-texts") || "{}");
  var chosenCell = null;
  var dirty = false;

  function say(text, isError) {
    statusBox.textContent = text || "";
    statusBox.hidden = !text;
    statusBox.classList.toggle("alert-error", !!isError);
  }

  if (typeof window.DmnJS !== "function") {
    say(texts.missing, true);
    return;
  }

  // No dmn-js string pop-up: it expects quoted FEEL strings where this editor shows plain values.
  var noStringPopup = { simpleStringEdit: ["value", {}] };
  var editor = new window.DmnJS({ container: canvasBox, decisionTable: { additionalModules: [noStringPopup] } });
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
    say(texts.saving);
    editor.saveXML({ format: true })
      .then(function (out) { return window.EcvetDeploy.post(host.getAttribute("data-save-url"), plain.toPython(out.xml)); })
      .then(function (result) {
        say("");
        if (result.ok) { dirty = false; }
        window.EcvetDeploy.show(resultBox, result, null);
        host.setAttribute("data-last-save", result.ok ? "saved" : "refused");
      })
      .catch(function (error) { say(texts.not_saved.replace("{reason}", error.message), true); })
      .then(function () { saveButton.disabled = false; });
  }

  /* The allowed values of the cell's column, or [] (free text). */
  function allowedFor(element) {
    var column = element && element.col && element.col.businessObject;
    if (!column || !element.businessObject || !("text" in element.businessObject)) { return []; }
    var values = column.outputValues || column.inputValues;
    return values ? plain.allowedValues(values.text) : [];
  }

  function columnName(element) {
    var column = element.col.businessObject;
    return column.label || column.name || (column.inputExpression && column.inputExpression.text) || "";
  }

  function syncChoice() {
    if (chosenCell && !choiceBox.hidden) { choiceSelect.value = chosenCell.businessObject.text || ""; }
  }

  function offerChoices(viewer, id) {
    var element = viewer.get("elementRegistry").get(id);
    var values = allowedFor(element);
    if (!values.length) {
      chosenCell = null;
      choiceBox.hidden = true;
      return;
    }
    chosenCell = element;
    var rows = element.row.businessObject.$parent.rule;
    choiceLabel.textContent = choiceBox.getAttribute("data-label-template")
      .replace("{row}", String(rows.indexOf(element.row.businessObject) + 1))
      .replace("{column}", columnName(element));
    while (choiceSelect.firstChild) { choiceSelect.removeChild(choiceSelect.firstChild); }
    var current = element.businessObject.text || "";
    var options = values.indexOf(current) === -1 ? [current].concat(values) : values;
    options.forEach(function (value) {
      var option = document.createElement("option");
      option.value = value;
      option.textContent = value === "" ? "—" : value;
      choiceSelect.appendChild(option);
    });
    choiceSelect.value = current;
    choiceBox.hidden = false;
  }

  choiceSelect.addEventListener("change", function () {
    if (!chosenCell) { return; }
    editor.getActiveViewer().get("modeling").editCell(chosenCell.businessObject, choiceSelect.value);
  });

  saveButton.addEventListener("click", save);
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });

  say(texts.loading);
  fetch(host.getAttribute("data-xml-url"), { credentials: "same-origin", headers: { Accept: "application/xml" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(texts.load_failed.replace("{status}", String(response.status))); }
      return response.text();
    })
    .then(function (xml) { return editor.importXML(plain.toPlain(xml)); })
    .then(openTable)
    .then(function () {
      var viewer = editor.getActiveViewer();
      if (viewer) {
        viewer.on("elements.changed", function () { dirty = true; syncChoice(); });
        viewer.on("cell.click", function (event) { offerChoices(viewer, event.id); });
      }
      say("");
      saveButton.disabled = false;
      host.setAttribute("data-rendered", "true");
    })
    .catch(function (error) {
      say(texts.cannot_edit.replace("{reason}", error.message), true);
      host.setAttribute("data-render-error", error.message);
    });
})();
