/*
 * Loaded before the decision-table editor's ES modules: Inferno's production module (what dmn-js's
 * modules import, see api/web/vendor.py) asks `process.env.NODE_ENV`, as bundlers replace it; the
 * browser has no `process`, so this says "production" (no development warnings, no ReferenceError).
 * A static file, as the CSP allows no inline script.
 */
window.process = window.process || { env: { NODE_ENV: "production" } };
