/*
 * Decision tables as a ministry officer reads them: the engine evaluates cells as Python ("ES", in
 * ["NL", "BE"], "explicit"); the editor shows a text column's values plain (ES, NL, BE, explicit) and
 * quotes them again before saving. Only cells of columns typed "string" change:
 *
 *   input cell   "ES"                 <->  ES
 *                in ["NL", "BE"]      <->  NL, BE
 *   output cell  "explicit"           <->  explicit
 *
 * Anything else (-, comparisons, not ..., None, other expressions) is left exactly as written, both ways.
 * window.EcvetDmnPlain = { toPlain(xml), toPython(xml), allowedValues(text) }.
 */
(function () {
  "use strict";

  var DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/";
  var SIMPLE = /^"([^"\\]*)"$/;
  var LIST = /^in \[\s*("[^"\\]*"\s*(,\s*"[^"\\]*"\s*)*)\]$/;
  var PLAIN_WORD = /^[\w .\/\-]*[\w.\/]$/;  // ES, ES-VC, school_based, Chamber of crafts
  var KEEP = { "-": 1, "None": 1, "True": 1, "False": 1 };

  function children(node, name) {
    var out = [];
    for (var c = node.firstElementChild; c; c = c.nextElementSibling) {
      if (c.localName === name) { out.push(c); }
    }
    return out;
  }

  function textOf(entry) {
    var text = children(entry, "text")[0];
    return text ? text : null;
  }

  function quoted(items) {
    return items.map(function (v) { return JSON.stringify(v); });
  }

  /* The values of an "allowed values" text ("none","explicit" or none, explicit) as plain strings. */
  function allowedValues(text) {
    var parts = (text || "").split(",").map(function (p) { return p.trim(); }).filter(Boolean);
    var values = [];
    for (var i = 0; i < parts.length; i++) {
      var m = SIMPLE.exec(parts[i]);
      if (m) { values.push(m[1]); } else if (PLAIN_WORD.test(parts[i])) { values.push(parts[i]); } else { return []; }
    }
    return values;
  }

  /* A column's allowed values: plain in the editor ("none, explicit"), quoted for the engine. */
  function valuesToPlain(text) {
    var values = allowedValues(text);
    return values.length && /^\s*"/.test(text) ? values.join(", ") : text;
  }

  function valuesToPython(text) {
    var values = allowedValues(text);
    return values.length && text.indexOf('"') === -1 ? quoted(values).join(",") : text;
  }

  function inputToPlain(text) {
    var m = SIMPLE.exec(text);
    if (m && m[1] !== "" && !KEEP[m[1]]) { return m[1]; }
    m = LIST.exec(text);
    if (m) {
      var values = allowedValues(m[1]);
      if (values.length && values.every(function (v) { return PLAIN_WORD.test(v) && !KEEP[v]; })) {
        return values.join(", ");
      }
    }
    return text;
  }

  function inputToPython(text) {
    var t = text.trim();
    if (t === "" || KEEP[t]) { return text; }
    var parts = t.split(",").map(function (p) { return p.trim(); });
    if (!parts.every(function (p) { return PLAIN_WORD.test(p) && !KEEP[p] && !/^(not|in|or|and)\b/.test(p); })) {
      return text;  // an expression (in [...], < 6, not "ES"): the engine reads it as written
    }
    return parts.length === 1 ? JSON.stringify(parts[0]) : "in [" + quoted(parts).join(", ") + "]";
  }

  function outputToPlain(text) {
    var m = SIMPLE.exec(text);
    return m && m[1] !== "" && !KEEP[m[1]] ? m[1] : text;
  }

  function outputToPython(text) {
    var t = text.trim();
    if (t === "" || KEEP[t] || t.charAt(0) === '"' || t.charAt(0) === "'") { return text; }
    return JSON.stringify(t);
  }

  /* Rewrite the text of every cell (and allowed values) of a text column of every decision table. */
  function rewrite(xml, inFn, outFn, valuesFn) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) { return xml; }
    var tables = doc.getElementsByTagNameNS(DMN_NS, "decisionTable");
    var rewriteValues = function (values) {
      var text = textOf(values);
      if (text) { text.textContent = valuesFn(text.textContent); }
    };
    for (var t = 0; t < tables.length; t++) {
      var table = tables[t];
      var inputs = children(table, "input").map(function (input) {
        var expression = children(input, "inputExpression")[0];
        var isText = expression && expression.getAttribute("typeRef") === "string";
        if (isText) { children(input, "inputValues").forEach(rewriteValues); }
        return isText;
      });
      var outputs = children(table, "output").map(function (output) {
        var isText = output.getAttribute("typeRef") === "string";
        if (isText) { children(output, "outputValues").forEach(rewriteValues); }
        return isText;
      });
      children(table, "rule").forEach(function (rule) {
        [[children(rule, "inputEntry"), inputs, inFn], [children(rule, "outputEntry"), outputs, outFn]]
          .forEach(function (group) {
            group[0].forEach(function (entry, index) {
              var text = textOf(entry);
              if (group[1][index] && text) { text.textContent = group[2](text.textContent); }
            });
          });
      });
    }
    return new XMLSerializer().serializeToString(doc);
  }

  window.EcvetDmnPlain = {
    toPlain: function (xml) { return rewrite(xml, inputToPlain, outputToPlain, valuesToPlain); },
    toPython: function (xml) { return rewrite(xml, inputToPython, outputToPython, valuesToPython); },
    allowedValues: allowedValues
  };
})();
