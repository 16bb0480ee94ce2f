/*
 * The `classnames` function as an ES module: the npm package ships CommonJS only, which a browser cannot
 * import; the properties panel imports it by name (the page's import map points here, see
 * api/web/vendor.py SHIMS). classNames("a", {b: true, c: false}, ["d"]) -> "a b d".
 */
export default function classNames() {
  var out = [];
  for (var i = 0; i < arguments.length; i++) {
    var arg = arguments[i];
    if (!arg) { continue; }
    if (typeof arg === "string" || typeof arg === "number") {
      out.push(String(arg));
    } else if (Array.isArray(arg)) {
      var inner = classNames.apply(null, arg);
      if (inner) { out.push(inner); }
    } else if (typeof arg === "object") {
      Object.keys(arg).forEach(function (key) { if (arg[key]) { out.push(key); } });
    }
  }
  return out.join(" ");
}
