/*
 * Properties-panel groups for what this platform reads from a model besides plain BPMN (the engine's
 * parser: engine/bundle/conventions.py, checks.py, messages.py, actions.py): a user task's form file,
 * instructions, due date and task action; scripts and pre/post scripts; gateway conditions; a service
 * task's operator, result variable, parameters and retries; a business rule task's decision; a message
 * event's payload, variable and correlation; the payload of errors, signals and escalations; timer
 * expressions; a lane's role key; who may start the process; any other spiffworkflow:property. Names,
 * ids, documentation, message and error references are the bpmn-js-properties-panel's own groups.
 *
 * Every change is one command on bpmn-js's command stack (undo works), written in the spiffworkflow
 * extension elements the moddle description (spiffworkflow-moddle.js) declares. Labels come from the
 * page's message catalogue (the labels object passed to the module).
 */
import { useService } from "bpmn-js-properties-panel";
import {
  ListGroup, SelectEntry, TextAreaEntry, TextFieldEntry,
  isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited
} from "@bpmn-io/properties-panel";
import { h } from "@bpmn-io/properties-panel/preact";
import {
  Writer, bo, extension, extensions, is, messageDefinition, property, setBody, setProperty
} from "./spiff-model.js";
import FormFilePicker from "./form-file-picker.js";

var LOW_PRIORITY = 400;
var PARAMETER_TYPES = ["str", "int", "float", "bool", "dict", "list", "any"];

/* ---- entry components ---------------------------------------------------------------------------- */

function services() {
  return { bpmnFactory: useService("bpmnFactory"), commandStack: useService("commandStack") };
}

/* Checks of what the engine would refuse, shown on the field at once; a refused value is not applied. */
var PATTERNS = {
  form_file: /^[A-Za-z0-9_.-]+\.json$/,
  role_key: /^[a-z0-9]+(?:-[a-z0-9]+)*$/,
  count: /^[0-9]+$/,
  registered: /^[A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*$/,
  identifier: /^[A-Za-z_][A-Za-z0-9_]*$/
};

function check(kind, message, required) {
  return function (value) {
    var text = (value || "").trim();
    if (!text) { return required ? message : null; }
    return PATTERNS[kind].test(text) ? null : message;
  };
}

/* One component for every text entry (a stable type, so typing never remounts the input). */
function TextEntry(props) {
  var svc = services();
  var debounce = useService("debounceInput");
  return h(props.area ? TextAreaEntry : TextFieldEntry, {
    element: props.element, id: props.id, label: props.label, description: props.description,
    rows: props.area ? 4 : undefined, monospace: !!props.code, debounce: debounce, validate: props.validate,
    getValue: function () { return props.read(props.element) || ""; },
    setValue: function (value) {
      if (props.validate && props.validate(value)) { return; }
      props.write(props.element, value || "", svc);
    }
  });
}

/* An entry whose reads and writes are given as functions. */
function entry(id, label, read, write, options) {
  options = options || {};
  return { id: id, label: label, description: options.description, area: !!options.area, code: !!options.code,
           validate: options.validate, read: read, write: write, component: TextEntry,
           isEdited: options.area ? isTextAreaEntryEdited : isTextFieldEntryEdited };
}

function propertyEntry(id, name, label, options) {
  return entry(id, label, function (element) { return property(bo(element), name); },
    function (element, value, svc) { setProperty(new Writer(element, svc), bo(element), name, value.trim()); }, options);
}

function bodyEntry(id, type, label, options, owner) {
  var ownerOf = owner || bo;
  return entry(id, label, function (element) {
    var found = extension(ownerOf(element), type);
    return found ? found.value : "";
  }, function (element, value, svc) { setBody(new Writer(element, svc), ownerOf(element), type, value); }, options);
}

/* A form file: a choice among the bundle's form files, or another name typed and checked (form-file-picker.js). */
function formFileEntry(id, name, label, hint, L) {
  var typed = propertyEntry(id, name, label, { description: hint, validate: check("form_file", L.invalid_form_file) });
  return Object.assign(typed, { component: FormFilePicker, text: TextEntry, labels: L, files: formFiles,
                                isEdited: isSelectEntryEdited });
}

/* ---- groups -------------------------------------------------------------------------------------- */

function group(id, label, entries) {
  return entries.length ? { id: id, label: label, entries: entries } : null;
}

function taskGroups(element, L) {
  var object = bo(element);
  var groups = [];
  if (is(object, "bpmn:UserTask") || is(object, "bpmn:ManualTask")) {
    groups.push(group("spiff-form", L.group_form, [
      formFileEntry("spiff-formJsonSchemaFilename", "formJsonSchemaFilename", L.form_file, L.form_file_hint, L),
      bodyEntry("spiff-instructionsForEndUser", "spiffworkflow:InstructionsForEndUser", L.instructions,
        { area: true, description: L.instructions_hint }),
      formFileEntry("spiff-formUiSchemaFilename", "formUiSchemaFilename", L.ui_form_file, L.ui_form_file_hint, L),
      propertyEntry("spiff-dueDate", "dueDate", L.due_date, { description: L.due_date_hint, code: true })
    ]));
    groups.push(group("spiff-action", L.group_action, [
      propertyEntry("spiff-recordAction", "recordAction", L.record_action,
        { description: L.record_action_hint, validate: check("registered", L.invalid_registered) })
    ]));
  }
  if (is(object, "bpmn:ScriptTask")) {
    groups.push(group("spiff-script", L.group_script, [
      entry("spiff-script", L.script, function (el) { return bo(el).get("script"); },
        function (el, value, svc) {
          var writer = new Writer(el, svc);
          writer.update(bo(el), { script: value || undefined });
          writer.run();
        }, { area: true, code: true, description: L.script_hint })
    ]));
  }
  if (is(object, "bpmn:BusinessRuleTask")) {
    groups.push(group("spiff-decision", L.group_decision, [
      bodyEntry("spiff-calledDecisionId", "spiffworkflow:CalledDecisionId", L.decision_id, { description: L.decision_id_hint })
    ]));
  }
  if (is(object, "bpmn:ServiceTask")) {
    groups.push(group("spiff-service", L.group_service, serviceEntries(L)));
    groups.push(parametersGroup(element, L));
  }
  if (is(object, "bpmn:Activity") && !is(object, "bpmn:SubProcess") && !is(object, "bpmn:CallActivity")) {
    groups.push(group("spiff-scripts", L.group_pre_post, [
      bodyEntry("spiff-preScript", "spiffworkflow:PreScript", L.pre_script, { area: true, code: true, description: L.pre_script_hint }),
      bodyEntry("spiff-postScript", "spiffworkflow:PostScript", L.post_script, { area: true, code: true, description: L.post_script_hint })
    ]));
  }
  return groups;
}

function operator(element) { return extension(bo(element), "spiffworkflow:ServiceTaskOperator"); }

function setOperator(element, svc, attrs) {
  var writer = new Writer(element, svc);
  var found = operator(element);
  if (found) { writer.update(found, attrs); } else { writer.extension(bo(element), "spiffworkflow:ServiceTaskOperator", attrs); }
  writer.run();
}

function serviceEntries(L) {
  return [
    entry("spiff-operator", L.operator, function (el) { var o = operator(el); return o ? o.id : ""; },
      function (el, value, svc) { setOperator(el, svc, { id: value.trim() || undefined }); },
      { description: L.operator_hint, validate: check("registered", L.invalid_registered) }),
    entry("spiff-resultVariable", L.result_variable, function (el) { var o = operator(el); return o ? o.resultVariable : ""; },
      function (el, value, svc) { setOperator(el, svc, { resultVariable: value.trim() || undefined }); },
      { description: L.result_variable_hint, validate: check("identifier", L.invalid_identifier) }),
    propertyEntry("spiff-retries", "retries", L.retries, { description: L.retries_hint, validate: check("count", L.invalid_count) })
  ];
}

function ParameterType(props) {
  var svc = services();
  var parameter = props.parameter;
  return h(SelectEntry, {
    element: props.element, id: props.id, label: props.label,
    getOptions: function () { return PARAMETER_TYPES.map(function (t) { return { value: t, label: t }; }); },
    getValue: function () { return parameter.type || "str"; },
    setValue: function (value) { var w = new Writer(props.element, svc); w.update(parameter, { type: value }); w.run(); }
  });
}

function parameterField(id, label, parameter, attribute, options) {
  return Object.assign(entry(id, label, function () { return parameter.get(attribute); },
    function (el, value, svc) {
      var writer = new Writer(el, svc);
      var change = {};
      change[attribute] = value.trim();
      writer.update(parameter, change);
      writer.run();
    }, options), {});
}

function parametersGroup(element, L) {
  var found = operator(element);
  var list = found && found.get("parameterList");
  var parameters = list ? list.get("parameters") : [];
  var items = parameters.map(function (parameter, index) {
    var prefix = "spiff-parameter-" + index;
    return {
      id: prefix, label: parameter.id || L.unnamed,
      entries: [
        parameterField(prefix + "-id", L.parameter_name, parameter, "id", { validate: check("identifier", L.invalid_identifier, true) }),
        { id: prefix + "-type", label: L.parameter_type, parameter: parameter, component: ParameterType, isEdited: isSelectEntryEdited },
        parameterField(prefix + "-value", L.parameter_value, parameter, "value", { code: true, description: L.parameter_value_hint })
      ],
      autoFocusEntry: prefix + "-id",
      remove: function () { removeParameter(element, parameter); }
    };
  });
  return { id: "spiff-parameters", label: L.group_parameters, component: ListGroup, items: items,
           add: function (event) { event.stopPropagation(); addParameter(element, parameters.length); } };
}

/* List groups call add/remove outside a component: the services come from the injector kept below. */
var injected = null;
var translate = null;  // diagram-js's translate service (modeler/translate.js), for the list groups
var formFiles = [];  // the bundle's .json files (the page's data-form-files), for the form file pickers

function addParameter(element, count) {
  var writer = new Writer(element, injected);
  var op = writer.extension(bo(element), "spiffworkflow:ServiceTaskOperator", {});
  var list = op.get("parameterList");
  if (!list) {
    list = writer.create("spiffworkflow:Parameters", { parameters: [] }, op);
    writer.update(op, { parameterList: list });
  }
  var parameter = writer.create("spiffworkflow:Parameter", { id: "parameter_" + (count + 1), type: "str", value: "" }, list);
  writer.update(list, { parameters: list.get("parameters").concat([parameter]) });
  writer.run();
}

function removeParameter(element, parameter) {
  var list = parameter.$parent;
  var writer = new Writer(element, injected);
  writer.update(list, { parameters: list.get("parameters").filter(function (p) { return p !== parameter; }) });
  writer.run();
}

function flowGroups(element, L) {
  var object = bo(element);
  if (!is(object, "bpmn:SequenceFlow")) { return []; }
  var source = object.sourceRef;
  var conditional = object.get("conditionExpression") ||
    is(source, "bpmn:ExclusiveGateway") || is(source, "bpmn:InclusiveGateway") || is(source, "bpmn:ComplexGateway");
  if (!conditional) { return []; }
  return [group("spiff-condition", L.group_condition, [
    entry("spiff-conditionExpression", L.condition, function (el) {
      var expression = bo(el).get("conditionExpression");
      return expression ? expression.get("body") : "";
    }, function (el, value, svc) {
      var writer = new Writer(el, svc);
      var expression;
      if (value.trim()) {
        expression = writer.create("bpmn:FormalExpression", { body: value }, bo(el));
      }
      writer.update(bo(el), { conditionExpression: expression });
      writer.run();
    }, { area: true, code: true, description: L.condition_hint })
  ])];
}

function messageGroups(element, L) {
  var definition = messageDefinition(element);
  if (!definition) { return []; }
  var owner = function () { return definition; };
  var object = bo(element);
  var throwing = is(object, "bpmn:ThrowEvent");
  var groups = [];
  if (throwing) {
    groups.push(group("spiff-message", L.group_message, [
      bodyEntry("spiff-messagePayload", "spiffworkflow:MessagePayload", L.message_payload,
        { area: true, code: true, description: L.message_payload_hint }, owner)
    ]));
  } else {
    groups.push(group("spiff-message", L.group_message, [
      bodyEntry("spiff-messageVariable", "spiffworkflow:MessageVariable", L.message_variable,
        { description: L.message_variable_hint, validate: check("identifier", L.invalid_identifier) }, owner)
    ]));
    groups.push(correlationGroup(element, definition, L));
  }
  return groups;
}

function correlationGroup(element, definition, L) {
  var correlations = extensions(definition).filter(function (v) { return is(v, "spiffworkflow:ProcessVariableCorrelation"); });
  var items = correlations.map(function (correlation, index) {
    var prefix = "spiff-correlation-" + index;
    return {
      id: prefix, label: correlation.propertyId || L.unnamed,
      entries: [
        parameterField(prefix + "-property", L.correlation_property, correlation, "propertyId"),
        parameterField(prefix + "-expression", L.correlation_expression, correlation, "expression",
          { code: true, description: L.correlation_expression_hint })
      ],
      autoFocusEntry: prefix + "-property",
      remove: function () {
        var writer = new Writer(element, injected);
        var ext = definition.get("extensionElements");
        writer.update(ext, { values: ext.get("values").filter(function (v) { return v !== correlation; }) });
        writer.run();
      }
    };
  });
  return { id: "spiff-correlations", label: L.group_correlations, component: ListGroup, items: items,
    add: function (event) {
      event.stopPropagation();
      var writer = new Writer(element, injected);
      var ext = writer.extensionElements(definition);
      var created = writer.create("spiffworkflow:ProcessVariableCorrelation", { propertyId: "", expression: "" }, ext);
      writer.update(ext, { values: ext.get("values").concat([created]) });
      writer.run();
    } };
}

/* Timers: the engine evaluates the expression as Python (a literal needs quotes), so the panel says so;
   this group replaces the BPMN provider's, whose help text describes ISO literals. */
var TIMER_TYPES = ["timeDate", "timeDuration", "timeCycle"];

function timerDefinition(element) {
  var object = bo(element);
  return (object.get && object.get("eventDefinitions") || []).filter(function (d) {
    return is(d, "bpmn:TimerEventDefinition");
  })[0];
}

function timerType(definition) {
  return TIMER_TYPES.filter(function (type) { return definition.get(type); })[0] || "";
}

function TimerType(props) {
  var svc = services();
  var definition = timerDefinition(props.element);
  return h(SelectEntry, {
    element: props.element, id: props.id, label: props.label,
    getOptions: function () {
      return [{ value: "", label: props.labels.timer_none }].concat(TIMER_TYPES.map(function (type) {
        return { value: type, label: props.labels["timer_" + type] };
      }));
    },
    getValue: function () { return timerType(definition); },
    setValue: function (value) {
      var current = timerType(definition);
      if (value === current) { return; }
      var body = current ? definition.get(current).get("body") : "";
      var writer = new Writer(props.element, svc);
      var change = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      if (value) { change[value] = writer.create("bpmn:FormalExpression", { body: body }, definition); }
      writer.update(definition, change);
      writer.run();
    }
  });
}

function timerGroups(element, L) {
  var definition = timerDefinition(element);
  if (!definition) { return []; }
  var entries = [{ id: "spiff-timerType", label: L.timer_type, labels: L, component: TimerType, isEdited: isSelectEntryEdited }];
  if (timerType(definition)) {
    entries.push(entry("spiff-timerValue", L.timer_value, function () {
      return definition.get(timerType(definition)).get("body");
    }, function (el, value, svc) {
      var writer = new Writer(el, svc);
      writer.update(definition.get(timerType(definition)), { body: value });
      writer.run();
    }, { code: true, description: L.timer_value_hint }));
  }
  return [group("spiff-timer", L.group_timer, entries)];
}

/* Errors, signals and escalations carry their payload on the referenced bpmn:error / bpmn:signal /
   bpmn:escalation: the expression the throw evaluates, and the variable a catch puts it in. */
var REFS = [["bpmn:ErrorEventDefinition", "errorRef"], ["bpmn:SignalEventDefinition", "signalRef"],
            ["bpmn:EscalationEventDefinition", "escalationRef"]];

function payloadGroups(element, L) {
  var object = bo(element);
  var definitions = (object.get && object.get("eventDefinitions")) || [];
  var target = null;
  definitions.forEach(function (definition) {
    REFS.forEach(function (pair) { if (!target && is(definition, pair[0])) { target = definition.get(pair[1]); } });
  });
  if (!target) { return []; }
  var owner = function () { return target; };
  return [group("spiff-payload", L.group_payload, [
    bodyEntry("spiff-payloadExpression", "spiffworkflow:PayloadExpression", L.payload_expression,
      { area: true, code: true, description: L.payload_expression_hint }, owner),
    bodyEntry("spiff-variableName", "spiffworkflow:VariableName", L.variable_name,
      { description: L.variable_name_hint, validate: check("identifier", L.invalid_identifier) }, owner)
  ])];
}

/* Properties the groups above do not name (spiff-arena models carry their own): listed, edited, added. */
var NAMED = ["formJsonSchemaFilename", "formUiSchemaFilename", "dueDate", "recordAction", "retries", "roleKey",
             "startableBy", "startCheck"];

function otherPropertiesGroup(element, L) {
  var object = bo(element);
  if (!object.get || is(object, "bpmn:Participant") || is(object, "bpmn:Collaboration") || !object.$descriptor ||
      !object.$descriptor.properties.some(function (d) { return d.name === "extensionElements"; })) {
    return null;
  }
  var props = extension(object, "spiffworkflow:Properties");
  var others = props ? props.get("properties").filter(function (p) { return NAMED.indexOf(p.name) < 0; }) : [];
  var items = others.map(function (prop, index) {
    var prefix = "spiff-property-" + index;
    return {
      id: prefix, label: prop.name || L.unnamed,
      entries: [
        parameterField(prefix + "-name", L.property_name, prop, "name", { validate: check("identifier", L.invalid_identifier, true) }),
        parameterField(prefix + "-value", L.property_value, prop, "value")
      ],
      autoFocusEntry: prefix + "-name",
      remove: function () {
        var writer = new Writer(element, injected);
        writer.update(props, { properties: props.get("properties").filter(function (p) { return p !== prop; }) });
        writer.run();
      }
    };
  });
  return { id: "spiff-properties", label: L.group_properties, component: ListGroup, items: items,
    add: function (event) {
      event.stopPropagation();
      var writer = new Writer(element, injected);
      var container = writer.extension(object, "spiffworkflow:Properties", { properties: [] });
      var created = writer.create("spiffworkflow:Property", { name: "property_" + (others.length + 1), value: "" }, container);
      writer.update(container, { properties: container.get("properties").concat([created]) });
      writer.run();
    } };
}

function laneGroups(element, L) {
  if (!is(bo(element), "bpmn:Lane")) { return []; }
  return [group("spiff-lane", L.group_lane, [
    propertyEntry("spiff-roleKey", "roleKey", L.role_key, { description: L.role_key_hint, validate: check("role_key", L.invalid_role_key) })
  ])];
}

function processGroups(element, L) {
  var object = bo(element);
  var process = is(object, "bpmn:Process") ? object : (is(object, "bpmn:Participant") ? object.processRef : null);
  if (!process) { return []; }
  var of = function () { return process; };
  var processProperty = function (id, name, label, hint, validate) {
    return entry(id, label, function () { return property(process, name); },
      function (el, value, svc) { setProperty(new Writer(el, svc), of(), name, value.trim()); },
      { description: hint, validate: validate });
  };
  return [group("spiff-start", L.group_start, [
    processProperty("spiff-startableBy", "startableBy", L.startable_by, L.startable_by_hint),
    processProperty("spiff-startCheck", "startCheck", L.start_check, L.start_check_hint, check("registered", L.invalid_registered))
  ])];
}

export default function spiffProviderModule(labels, files) {
  formFiles = files || [];
  function SpiffPropertiesProvider(propertiesPanel, injector) {
    injected = { bpmnFactory: injector.get("bpmnFactory"), commandStack: injector.get("commandStack") };
    translate = injector.get("translate");
    propertiesPanel.registerProvider(LOW_PRIORITY, this);
  }
  SpiffPropertiesProvider.$inject = ["propertiesPanel", "injector"];
  SpiffPropertiesProvider.prototype.getGroups = function (element) {
    return function (groups) {
      var ours = [].concat(
        processGroups(element, labels), laneGroups(element, labels), taskGroups(element, labels),
        flowGroups(element, labels), messageGroups(element, labels), timerGroups(element, labels),
        payloadGroups(element, labels), [otherPropertiesGroup(element, labels)]
      ).filter(Boolean);
      // The list groups' own words ("Create new list item"...) through the translate service too.
      ours.forEach(function (g) { if (g.component === ListGroup) { g.translate = translate; } });
      groups = groups.filter(function (g) { return g.id !== "timer"; });
      // Ours come right after the general group (name and id), before documentation and the rest.
      var general = groups.findIndex(function (g) { return g.id === "general"; });
      groups.splice(general + 1, 0, ...ours);
      return groups;
    };
  };
  return { __init__: ["spiffPropertiesProvider"], spiffPropertiesProvider: ["type", SpiffPropertiesProvider] };
}
