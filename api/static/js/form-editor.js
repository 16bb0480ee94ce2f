/*
 * The form editor ([data-form-editor]): the preview follows the JSON Schema as it is typed (the server
 * renders it with the platform's own form rendering and checks it against the metaschema), and "Save as
 * new version" deploys it without leaving the page (deploy.js shows the answer). Without this script the
 * page is a plain form whose buttons do the same with a page load.
 * data-preview-state on the form: "checking", "valid" or "invalid"; data-last-save: "saved" or "refused".
 */
(function () {
  "use strict";

  var host = document.querySelector("[data-form-editor]");
  if (!host) { return; }
  var text = host.querySelector("[data-schema-text]");
  var previewBox = host.querySelector("[data-preview]");
  var saveButton = host.querySelector("[data-save]");
  var previewButton = host.querySelector("[data-preview-button]");
  var resultBox = host.querySelector("[data-deploy-result]");
  var statusBox = host.querySelector("[data-diagram-status]");
  var timer = null;
  var asked = 0;
  var dirty = false;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function post(url) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ schema: text.value })
    }).then(function (response) {
      return response.text().then(function (body) {
        var parsed;
        try { parsed = JSON.parse(body); } catch (e) { parsed = { detail: body || response.statusText }; }
        return { ok: response.ok, status: response.status, body: parsed };
      });
    });
  }

  function say(message, isError) {
    statusBox.textContent = message || "";
    statusBox.hidden = !message;
    statusBox.classList.toggle("alert-error", !!isError);
  }

  function refresh() {
    var mine = ++asked;
    host.setAttribute("data-preview-state", "checking");
    post(host.getAttribute("data-preview-url")).then(function (result) {
      if (mine !== asked) { return; }  // a newer edit is being checked
      if (!result.ok) {
        host.setAttribute("data-preview-state", "invalid");
        say(host.getAttribute("data-not-saved").replace("{reason}", result.body.detail || result.status), true);
        return;
      }
      // The server's own template, built from the catalogue and escaped by Jinja.
      previewBox.innerHTML = result.body.html;
      host.setAttribute("data-preview-state", result.body.problems.length ? "invalid" : "valid");
    }).catch(function (error) {
      if (mine === asked) { say(error.message, true); }
    });
  }

  function save() {
    saveButton.disabled = true;
    window.EcvetDeploy.clear(resultBox);
    say(host.getAttribute("data-saving"));
    post(host.getAttribute("action"))
      .then(function (result) {
        say("");
        if (result.ok) { dirty = false; }
        window.EcvetDeploy.show(resultBox, result, null);
        host.setAttribute("data-last-save", result.ok ? "saved" : "refused");
      })
      .catch(function (error) {
        say(host.getAttribute("data-not-saved").replace("{reason}", error.message), true);
      })
      .then(function () { saveButton.disabled = false; });
  }

  text.addEventListener("input", function () {
    dirty = true;
    host.removeAttribute("data-last-save");
    host.setAttribute("data-preview-state", "checking");
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, 400);
  });
  previewButton.addEventListener("click", function (event) { event.preventDefault(); refresh(); });
  saveButton.addEventListener("click", function (event) { event.preventDefault(); save(); });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  host.setAttribute("data-preview-state", previewBox.querySelector("[data-problems='0']") ? "valid" : "invalid");
  host.setAttribute("data-ready", "true");
})();
