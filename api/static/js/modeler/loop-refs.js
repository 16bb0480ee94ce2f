/*
 * A multi-instance activity's loopDataInputRef / loopDataOutputRef: BPMN makes them references to data
 * elements, SpiffWorkflow reads them as variable names (e.g. mou_other_partners). bpmn-js drops a
 * reference it cannot resolve when it imports the diagram, so a diagram saved unchanged would lose them
 * and the engine would refuse it ("must specify a cardinality or a loop input"). remember(xml) notes
 * each activity's names that are not element ids; restore(xml, kept) writes back those the saved XML
 * lacks (the activity and its multi-instance marker still there).
 */
var NAMES = ["loopDataInputRef", "loopDataOutputRef"];

function parse(xml) { return new DOMParser().parseFromString(xml, "application/xml"); }

function markers(doc) {
  return Array.prototype.filter.call(doc.getElementsByTagName("*"), function (node) {
    return node.localName === "multiInstanceLoopCharacteristics" && node.parentNode && node.parentNode.getAttribute("id");
  });
}

function child(node, name) {
  return Array.prototype.filter.call(node.children, function (c) { return c.localName === name; })[0] || null;
}

export function remember(xml) {
  var doc = parse(xml);
  var kept = {};
  markers(doc).forEach(function (marker) {
    NAMES.forEach(function (name) {
      var ref = child(marker, name);
      var text = ref && ref.textContent.trim();
      if (text && !doc.querySelector("[id='" + text.replace(/'/g, "") + "']")) {
        var id = marker.parentNode.getAttribute("id");
        (kept[id] = kept[id] || {})[name] = text;
      }
    });
  });
  return kept;
}

export function restore(xml, kept) {
  if (!Object.keys(kept).length) { return xml; }
  var doc = parse(xml);
  var changed = false;
  markers(doc).forEach(function (marker) {
    var wanted = kept[marker.parentNode.getAttribute("id")];
    if (!wanted) { return; }
    NAMES.slice().reverse().forEach(function (name) {  // inserted first, in the schema's order
      if (!wanted[name] || child(marker, name)) { return; }
      var ref = doc.createElementNS(marker.namespaceURI, (marker.prefix ? marker.prefix + ":" : "") + name);
      ref.textContent = wanted[name];
      marker.insertBefore(ref, marker.firstElementChild);
      changed = true;
    });
  });
  return changed ? new XMLSerializer().serializeToString(doc) : xml;
}
