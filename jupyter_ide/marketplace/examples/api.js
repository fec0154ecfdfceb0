// The extension side of the IDE's message API: one request, one answer, matched by id.
// The IDE checks every call against the permissions the user granted.
let next = 0;
const waiting = new Map();
const handlers = new Map();

window.addEventListener("message", (event) => {
  if (event.source !== window.parent) return;
  const msg = event.data || {};
  if (msg.type === "reply" && waiting.has(msg.id)) {
    const { resolve, reject } = waiting.get(msg.id);
    waiting.delete(msg.id);
    msg.error ? reject(new Error(msg.error)) : resolve(msg.result);
  } else if (msg.type === "event" && handlers.has(msg.name)) {
    for (const handler of handlers.get(msg.name)) handler(msg.data);
  }
});

export const ide = {
  call(method, params = {}) {
    const id = ++next;
    window.parent.postMessage({ type: "call", id, method, params }, "*");
    return new Promise((resolve, reject) => waiting.set(id, { resolve, reject }));
  },
  on(name, handler) {
    if (!handlers.has(name)) handlers.set(name, []);
    handlers.get(name).push(handler);
    window.parent.postMessage({ type: "subscribe", name }, "*");
  },
};
