// Course helper: a panel showing the assignment's instructions, as plain text.
import { ide } from "./api.js";

async function show() {
  const settings = (await ide.call("settings.get")) ?? {};
  const file = settings.instructionsFile || "INSTRUCTIONS.md";
  let text;
  try {
    text = await ide.call("workspace.readFile", { path: file });
  } catch (error) {
    text = `No ${file} here (${error.message}).`;
  }
  await ide.call("panel.setText", { id: "course-helper.instructions", text });
}

ide.on("workspace.changed", show);
show();
