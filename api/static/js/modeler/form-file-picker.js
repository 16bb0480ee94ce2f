/*
 * A user task's form file as a choice among the version's form files (the page lists the bundle's
 * .json files in data-form-files), with "Other…" for a file not in the bundle yet: that choice opens a
 * text field below, checked as any typed form file (the provider's validate). A value that is not among
 * the bundle's files (or a file chosen from "Other…") keeps the text field open.
 *
 * props: element, id, label, description, labels (the catalogue's modeler.* texts), files, read(element),
 * write(element, value, services), validate, text (the provider's text entry component).
 */
import { useService } from "bpmn-js-properties-panel";
import { SelectEntry } from "@bpmn-io/properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";
import { useState } from "@bpmn-io/properties-panel/preact/hooks";

var OTHER = "\u0000other";

export default function FormFilePicker(props) {
  var svc = { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
  var chosenOther = useState(false);
  var value = props.read(props.element) || "";
  var known = value === "" || props.files.indexOf(value) >= 0;
  var typing = chosenOther[0] || !known;
  var select = h(SelectEntry, {
    element: props.element, id: props.id, label: props.label, description: typing ? undefined : props.description,
    getOptions: function () {
      return [{ value: "", label: props.labels.form_file_none }]
        .concat(props.files.map(function (file) { return { value: file, label: file }; }))
        .concat([{ value: OTHER, label: props.labels.form_file_other }]);
    },
    getValue: function () { return typing ? OTHER : value; },
    setValue: function (chosen) {
      if (chosen === OTHER) { chosenOther[1](true); return; }
      chosenOther[1](false);
      if (chosen !== value) { props.write(props.element, chosen, svc); }
    }
  });
  if (!typing) { return select; }
  var other = h(props.text, {
    element: props.element, id: props.id + "-other", label: props.labels.form_file_other_name,
    description: props.description, validate: props.validate, read: props.read, write: props.write
  });
  return h("div", { class: "form-file-picker" }, select, other);
}
