'use strict';
// jupyter-ide runner: preloaded into Node.js programs that may read stdin. A paused stdin no
// longer keeps the program alive (as with a terminal), so a program that closed its readline
// interface ends instead of waiting for the end of the input.
const descriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
if (descriptor && typeof descriptor.get === 'function') {
  let patched = false;
  Object.defineProperty(process, 'stdin', {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      const stdin = descriptor.get.call(process);
      if (!patched && stdin && typeof stdin.unref === 'function') {
        patched = true;
        stdin.on('pause', () => stdin.unref());
        stdin.on('resume', () => stdin.ref());
      }
      return stdin;
    },
  });
}
