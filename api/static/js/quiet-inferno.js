/*
 * Loaded just before dmn-js (and unloaded by the next script): dmn-js's production bundle embeds the
 * development build of Inferno, which announces itself on the console while the bundle is evaluated
 * ("Inferno is in development mode", "...minified copy of the development build of Inferno"). Those two
 * start-up lines say nothing about this page, so they are dropped; every other message passes.
 */
(function () {
  "use strict";

  var original = { error: console.error, warn: console.warn, info: console.info };
  var noise = /Inferno is in development mode|development build of Inferno/;

  function filtered(level) {
    return function () {
      if (arguments.length && noise.test(String(arguments[0]))) { return; }
      return original[level].apply(console, arguments);
    };
  }

  console.error = filtered("error");
  console.warn = filtered("warn");
  console.info = filtered("info");
  window.EcvetQuietInferno = {
    restore: function () {
      console.error = original.error;
      console.warn = original.warn;
      console.info = original.info;
    }
  };
})();
