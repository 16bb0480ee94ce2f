/*
 * Reading and writing the spiffworkflow extension elements of a diagram element (see
 * spiffworkflow-moddle.js) for the properties-panel provider (spiff-provider.js). A Writer collects the
 * changes of one edit as bpmn-js commands and runs them as one, so a single undo reverts the edit.
 */

export function bo(element) { return element.businessObject || element; }
export function is(object, type) { return !!object && typeof object.$instanceOf === "function" && object.$instanceOf(type); }

/* ---- reading ------------------------------------------------------------------------------------ */

export function extensions(owner) {
  var ext = owner.get("extensionElements");
  return ext ? ext.get("values") : [];
}

export function extension(owner, type) {
  return extensions(owner).filter(function (v) { return is(v, type); })[0];
}

export function property(owner, name) {
  var props = extension(owner, "spiffworkflow:Properties");
  var found = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
  return found ? found.value || "" : "";
}

export function messageDefinition(element) {
  var object = bo(element);
  return (object.get && object.get("eventDefinitions") || []).filter(function (d) {
    return is(d, "bpmn:MessageEventDefinition");
  })[0];
}

/* ---- writing: a Writer collects an edit's commands, run() executes them as one ---------------------- */

export function Writer(element, services) {
  this.element = element;
  this.factory = services.bpmnFactory;
  this.stack = services.commandStack;
  this.commands = [];
}

Writer.prototype.update = function (moddleElement, properties) {
  this.commands.push({ cmd: "element.updateModdleProperties",
    context: { element: this.element, moddleElement: moddleElement, properties: properties } });
};

Writer.prototype.create = function (type, attrs, parent) {
  var created = this.factory.create(type, attrs);
  created.$parent = parent;
  return created;
};

Writer.prototype.extensionElements = function (owner) {
  var ext = owner.get("extensionElements");
  if (!ext) {
    ext = this.create("bpmn:ExtensionElements", { values: [] }, owner);
    this.update(owner, { extensionElements: ext });
  }
  return ext;
};

Writer.prototype.extension = function (owner, type, attrs) {
  var found = extension(owner, type);
  if (found) { return found; }
  var ext = this.extensionElements(owner);
  found = this.create(type, attrs || {}, ext);
  this.update(ext, { values: ext.get("values").concat([found]) });
  return found;
};

Writer.prototype.removeExtension = function (owner, type) {
  var found = extension(owner, type);
  if (!found) { return; }
  var ext = owner.get("extensionElements");
  this.update(ext, { values: ext.get("values").filter(function (v) { return v !== found; }) });
};

Writer.prototype.run = function () {
  if (this.commands.length) { this.stack.execute("properties-panel.multi-command-executor", this.commands); }
};

export function setProperty(writer, owner, name, value) {
  var props = extension(owner, "spiffworkflow:Properties");
  var found = props && props.get("properties").filter(function (p) { return p.name === name; })[0];
  if (!value) {
    if (found) { writer.update(props, { properties: props.get("properties").filter(function (p) { return p !== found; }) }); }
  } else if (found) {
    writer.update(found, { value: value });
  } else {
    props = writer.extension(owner, "spiffworkflow:Properties", { properties: [] });
    var created = writer.create("spiffworkflow:Property", { name: name, value: value }, props);
    writer.update(props, { properties: props.get("properties").concat([created]) });
  }
  writer.run();
}

export function setBody(writer, owner, type, value) {
  if (!value) {
    writer.removeExtension(owner, type);
  } else {
    var found = extension(owner, type);
    if (found) { writer.update(found, { value: value }); } else { writer.extension(owner, type, { value: value }); }
  }
  writer.run();
}
