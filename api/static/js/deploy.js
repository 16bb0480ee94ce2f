/*
 * Shared by the BPMN modeler and the decision-table editor: send the edited XML to the page's save URL
 * (CSRF token from <meta name="csrf-token">) and show what the engine answered in [data-deploy-result].
 * The answer is JSON: {message, versions: [{key, version, created, url}]} on success, or an RFC 9457
 * problem with errors: [{file, element_id, message, line}] when the engine refused the bundle. The box's
 * own words come from the catalogue, in its data-texts (definitions/_deploy_result.html).
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url, xml) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/xml", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: xml
    }).then(function (response) {
      return response.text().then(function (text) {
        var body;
        try { body = JSON.parse(text); } catch (e) { body = { detail: text || response.statusText }; }
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  /* The box's text `name` from the catalogue, with {placeholders} filled in. */
  function text(box, name, values) {
    var texts = JSON.parse(box.getAttribute("data-texts") || "{}");
    return (texts[name] || name).replace(/{([^}]+)}/g, function (match, key) {
      return values && key in values ? String(values[key]) : match;
    });
  }

  function clear(box) {
    while (box.firstChild) { box.removeChild(box.firstChild); }
    box.hidden = true;
    box.className = "deploy-result";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  /* Render the answer; `onElement(id)` (optional) makes each error's element id a button that shows it. */
  function show(box, result, onElement) {
    clear(box);
    box.hidden = false;
    if (result.ok) {
      box.classList.add("flash", "flash-success");
      box.appendChild(element("p", null, result.body.message || text(box, "saved")));
      var versions = result.body.versions || [];
      if (versions.length) {
        var list = element("ul", "deploy-versions");
        versions.forEach(function (v) {
          var item = element("li");
          var link = element("a", null, text(box, "version", { key: v.key, version: v.version }));
          link.href = v.url;
          item.appendChild(link);
          item.appendChild(document.createTextNode(" (" + text(box, v.created ? "new" : "unchanged") + ")"));
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      box.focus();
      return;
    }
    box.classList.add("alert", "alert-error");
    box.appendChild(element("p", "deploy-title", result.body.detail || result.body.title || text(box, "not_saved")));
    var errors = Array.isArray(result.body.errors) ? result.body.errors : [];
    if (!Array.isArray(result.body.errors) && result.body.errors && typeof result.body.errors === "object") {
      Object.keys(result.body.errors).forEach(function (key) {
        [].concat(result.body.errors[key]).forEach(function (message) {
          errors.push({ file: null, element_id: null, message: key + ": " + message });
        });
      });
    }
    if (errors.length) {
      var ul = element("ul", "deploy-errors");
      errors.forEach(function (error) {
        var li = element("li");
        if (error.element_id) {
          li.setAttribute("data-element-id", error.element_id);
          if (onElement) {
            var button = element("button", "button button-small", error.element_id);
            button.type = "button";
            button.setAttribute("aria-label", text(box, "show_element", { id: error.element_id }));
            button.addEventListener("click", function () { onElement(error.element_id); });
            li.appendChild(button);
          } else {
            li.appendChild(element("code", null, error.element_id));
          }
          li.appendChild(document.createTextNode(" "));
        }
        li.appendChild(element("span", "deploy-error-message", error.message));
        if (error.file) {
          li.appendChild(element("span", "muted", " — " + error.file + (error.line ? ", " + text(box, "line", { line: error.line }) : "")));
        }
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    box.focus();
  }

  window.EcvetDeploy = { post: post, show: show, clear: clear };
})();
