/*
 * diagram-js's `translate` service, replaced so the words bpmn-js-properties-panel and its panel library
 * show ("General", "Documentation", "Create new list item"...) come from the page's catalogue: each
 * English template the libraries pass is looked up in WORDS, and its text is the catalogue's
 * modeler.lib.<key> (in the labels object, as "lib.<key>"). A template not listed (or a key the
 * catalogue lacks) stays as the library wrote it. Replacements ({numOfItems}...) are filled in as the
 * libraries' own translate does.
 */
var WORDS = {
  "General": "general",
  "Name": "name",
  "ID": "id",
  "Process ID": "process_id",
  "Process name": "process_name",
  "Executable": "executable",
  "Version tag": "version_tag",
  "Documentation": "documentation",
  "Element documentation": "element_documentation",
  "Process documentation": "process_documentation",
  "Message": "message",
  "Global message reference": "global_message",
  "Error": "error",
  "Global error reference": "global_error",
  "Code": "code",
  "Signal": "signal",
  "Global signal reference": "global_signal",
  "Escalation": "escalation",
  "Global escalation reference": "global_escalation",
  "Condition": "condition",
  "Multi-instance": "multi_instance",
  "Loop cardinality": "loop_cardinality",
  "Completion condition": "completion_condition",
  "Compensation": "compensation",
  "Activity reference": "activity_reference",
  "Wait for completion": "wait_for_completion",
  "Create new ...": "create_new",
  "<none>": "none",
  "<empty>": "empty",
  "Create new list item": "create_list_item",
  "Create": "create",
  "List contains {numOfItems} item": "list_contains_one",
  "List contains {numOfItems} items": "list_contains_many",
  "Toggle section": "toggle_section",
  "Toggle list item": "toggle_list_item",
  "Delete item": "delete_item",
  "Section contains edits": "section_edited",
  "Section contains an error": "section_error",
  "Open documentation": "open_documentation",
  "Learn more.": "learn_more"
};

export function translator(labels) {
  return function translate(template, replacements) {
    var key = Object.prototype.hasOwnProperty.call(WORDS, template) ? WORDS[template] : null;
    var text = (key && labels["lib." + key]) || template;
    replacements = replacements || {};
    return text.replace(/{([^}]+)}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(replacements, name) ? replacements[name] : match;
    });
  };
}

export default function translateModule(labels) {
  return { translate: ["value", translator(labels)] };
}
