/** Whether inline AI completions are on, and with which model: set by the app, read by Monaco. */

export interface InlineSettings {
  enabled: boolean;
  model: string | null;
}

let current: InlineSettings = { enabled: false, model: null };

/** The settings in force now. */
export function inlineSettings(): InlineSettings {
  return current;
}

/** Change the settings; the next keystroke uses them. */
export function setInlineSettings(next: InlineSettings): void {
  current = { ...next };
}
