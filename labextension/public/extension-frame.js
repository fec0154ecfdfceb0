// The runtime frame of one extension (sandboxed: opaque origin, no network by its CSP).
// The extension's code runs in a worker started here; this page only relays messages between
// the worker and the IDE, so an endless loop in the extension blocks no page's main thread.
(function () {
  'use strict';
  var worker = null;
  var sent = 0;
  var windowStart = 0;
  // The frame's own brake on a flood: the IDE stops an extension that floods it anyway.
  var MAX_PER_SECOND = 500;

  function toParent(data) {
    parent.postMessage(data, '*');
  }

  function fromWorker(event) {
    var now = Date.now();
    if (now - windowStart > 1000) {
      windowStart = now;
      sent = 0;
    }
    sent += 1;
    if (sent === MAX_PER_SECOND + 1) {
      toParent({ type: 'flood' });
    }
    if (sent > MAX_PER_SECOND) {
      return;
    }
    toParent(event.data);
  }

  function start(code, name) {
    // A data: module worker: in an opaque-origin frame a blob: module worker cannot load
    // (its CORS fetch fails); a data: worker has an opaque origin of its own, and the
    // frame's policy (no network) goes with it.
    worker = new Worker('data:text/javascript;charset=utf-8,' + encodeURIComponent(code), {
      type: 'module',
      name: name,
    });
    worker.onmessage = fromWorker;
    worker.onerror = function (event) {
      event.preventDefault();
      toParent({ type: 'crash', message: String(event.message || 'the extension failed') });
    };
  }

  addEventListener('message', function (event) {
    if (event.source !== parent) return;
    var msg = event.data;
    if (!msg || typeof msg !== 'object') return;
    if (msg.type === 'boot') {
      if (worker) return;
      try {
        start(String(msg.code), String(msg.name || 'extension'));
      } catch (e) {
        toParent({ type: 'crash', message: String((e && e.message) || e) });
      }
      return;
    }
    if (worker) worker.postMessage(msg);
  });
  toParent({ type: 'ready' });
})();
