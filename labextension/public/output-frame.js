// Runs inside the sandboxed frame of one HTML output: tells the page how tall the output is.
// The only script such a frame may run (its Content-Security-Policy names this file alone).
(function () {
  'use strict';
  var last = -1;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== last) {
      last = height;
      parent.postMessage({ type: 'jupyter-ide:output-height', height: height }, '*');
    }
  }
  if (typeof ResizeObserver === 'function') {
    new ResizeObserver(report).observe(document.documentElement);
  }
  addEventListener('load', report);
  document.addEventListener('DOMContentLoaded', report);
})();
