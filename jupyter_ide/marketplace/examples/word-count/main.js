// Word count: a status bar item that follows the open document.
// Runs in a sandboxed frame; it reaches the IDE only through the message API (api.js).
import { ide } from "./api.js";

function count(text) {
  const words = text.trim().split(/\s+/u).filter(Boolean);
  return words.length;
}

async function update() {
  const text = await ide.call("editor.getText");
  const n = count(text ?? "");
  await ide.call("statusbar.set", { id: "word-count", text: `${n} ${n === 1 ? "word" : "words"}` });
}

ide.on("editor.changed", update);
update();
