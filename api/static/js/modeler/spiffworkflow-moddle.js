/*
 * The moddle description of the SpiffWorkflow extensions this platform reads (namespace
 * http://spiffworkflow.org/bpmn/schema/1.0/core, prefix spiffworkflow), so bpmn-js loads them as typed
 * objects the properties panel can edit and writes them back unchanged. Written from the XML the engine
 * parses (engine/bundle/conventions.py, checks.py, messages.py): every extension is a child of
 * bpmn:extensionElements.
 */
function body(name) {
  return { name: name, superClass: ["Element"], properties: [{ name: "value", type: "String", isBody: true }] };
}

export default {
  name: "SpiffWorkflow",
  uri: "http://spiffworkflow.org/bpmn/schema/1.0/core",
  prefix: "spiffworkflow",
  xml: { tagAlias: "lowerCase" },
  associations: [],
  types: [
    { name: "Properties", superClass: ["Element"],
      properties: [{ name: "properties", type: "Property", isMany: true }] },
    { name: "Property", superClass: ["Element"],
      properties: [{ name: "name", type: "String", isAttr: true }, { name: "value", type: "String", isAttr: true }] },
    body("InstructionsForEndUser"),
    body("PreScript"),
    body("PostScript"),
    body("CalledDecisionId"),
    body("MessagePayload"),
    body("MessageVariable"),
    body("PayloadExpression"),
    body("VariableName"),
    { name: "ProcessVariableCorrelation", superClass: ["Element"],
      properties: [{ name: "propertyId", type: "String" }, { name: "expression", type: "String" }] },
    { name: "ServiceTaskOperator", superClass: ["Element"],
      properties: [{ name: "id", type: "String", isAttr: true }, { name: "resultVariable", type: "String", isAttr: true },
                   { name: "parameterList", type: "Parameters" }] },
    { name: "Parameters", superClass: ["Element"],
      properties: [{ name: "parameters", type: "Parameter", isMany: true }] },
    { name: "Parameter", superClass: ["Element"],
      properties: [{ name: "id", type: "String", isAttr: true }, { name: "type", type: "String", isAttr: true },
                   { name: "value", type: "String", isAttr: true }] }
  ]
};
