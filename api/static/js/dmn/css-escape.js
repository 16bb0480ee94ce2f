/*
 * `css.escape` as an ES module: the npm package ships CommonJS only (a polyfill of CSS.escape), which a
 * browser cannot import; dmn-js's decision table imports it by name (the page's import map points here,
 * see api/web/vendor.py SHIMS). Every browser the platform supports has CSS.escape itself.
 */
export default function cssEscape(value) {
  return window.CSS.escape(String(value));
}
