// Format document (Python): tabs become four spaces, trailing spaces go, one final newline.
import { ide } from "./api.js";

export function format(text) {
  const lines = text.replace(/\r\n?/gu, "\n").split("\n");
  const out = lines.map((line) => line.replace(/\t/gu, "    ").replace(/[ \t]+$/u, ""));
  while (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

ide.call("commands.register", { id: "format-python.format" });
ide.on("command", async ({ id }) => {
  if (id !== "format-python.format") return;
  const text = await ide.call("editor.getText");
  const formatted = format(text ?? "");
  if (formatted !== text) await ide.call("editor.setText", { text: formatted });
});
