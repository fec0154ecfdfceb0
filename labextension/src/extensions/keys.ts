/** Keybindings that extensions contribute for their commands ("shift+alt+f"). */

export interface KeyBinding {
  extension: string;
  command: string;
  key: string;
}

const MODIFIERS = new Set(['ctrl', 'shift', 'alt', 'meta', 'cmd']);

/** Whether a keyboard event is the chord ``key`` (modifiers exactly, then one key). */
export function matches(
  key: string,
  event: Pick<KeyboardEvent, 'key' | 'code' | 'ctrlKey' | 'shiftKey' | 'altKey' | 'metaKey'>,
): boolean {
  const parts = key
    .toLowerCase()
    .split('+')
    .map((p) => p.trim())
    .filter(Boolean);
  const main = parts.filter((p) => !MODIFIERS.has(p));
  if (main.length !== 1) {
    return false;
  }
  const want = (name: string) => parts.includes(name);
  if (
    want('ctrl') !== event.ctrlKey ||
    want('shift') !== event.shiftKey ||
    want('alt') !== event.altKey ||
    (want('meta') || want('cmd')) !== event.metaKey
  ) {
    return false;
  }
  const target = main[0] ?? '';
  // event.code survives Alt and Shift changing the character (Alt+F gives "ƒ" on a Mac).
  const code = event.code.toLowerCase().replace(/^key|^digit/, '');
  return event.key.toLowerCase() === target || code === target;
}

/** The keybindings an install's manifest contributes. */
export function bindingsOf(extension: string, manifest: Record<string, unknown>): KeyBinding[] {
  const contributes = manifest.contributes;
  const list =
    typeof contributes === 'object' && contributes !== null
      ? (contributes as Record<string, unknown>).keybindings
      : undefined;
  if (!Array.isArray(list)) {
    return [];
  }
  return list.flatMap((item: unknown) => {
    const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    return typeof raw.command === 'string' && typeof raw.key === 'string'
      ? [{ extension, command: raw.command, key: raw.key }]
      : [];
  });
}
