/*
 * dmn-js's Modeler from the ES modules its packages ship (through the page's import map, see
 * api/web/vendor.py), not from its UMD bundle: that bundle embeds Inferno's development build, which
 * announces itself on the console; the modules use Inferno's production build (dmn/production.js sets
 * the NODE_ENV it reads). dmn-editor.js (a deferred script after this module) finds it as window.DmnJS.
 */
import DmnModeler from "dmn-js/lib/Modeler";

window.DmnJS = DmnModeler;
