/*
 * `escape-html` as an ES module: the npm package ships CommonJS only, which a browser cannot import;
 * dmn-js's content-editable cells import it by name (the page's import map points here, see
 * api/web/vendor.py SHIMS). escapeHtml('a < "b"') -> 'a &lt; &quot;b&quot;'.
 */
var ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };

export default function escapeHtml(value) {
  if (value === null || value === undefined) { return ""; }
  return String(value).replace(/[&<>"']/g, function (c) { return ENTITIES[c]; });
}
