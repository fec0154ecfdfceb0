/** The status bar's words for the sandbox's state and the AI quota. */
import type { Quota, Subsystem } from './api';

/** "12.3k" for big numbers. */
export function short(n: number): string {
  return n >= 1_000_000
    ? `${(n / 1e6).toFixed(1)}M`
    : n >= 1000
      ? `${(n / 1000).toFixed(1)}k`
      : String(n);
}

/** The sandbox in words: "sandbox ok", "sandbox off" (not sandboxed), ... */
export function sandboxText(sandbox: Subsystem | undefined): string {
  return sandbox ? `Sandbox: ${sandbox.state}` : 'Sandbox: unknown';
}

/** The AI part: the fullest quota ("AI 1.2k/200k tokens"), or the mode when nothing limits. */
export function aiText(mode: string | null, limits: Quota[], unavailable: string | null): string {
  if (unavailable) {
    return 'AI: unavailable';
  }
  if (mode === 'off') {
    return 'AI: off';
  }
  const limited = limits.filter((l) => l.limit > 0);
  if (!limited.length) {
    return mode ? `AI: ${mode}` : 'AI: …';
  }
  const fullest = limited.reduce((a, b) => (b.used / b.limit > a.used / a.limit ? b : a));
  return `AI: ${short(fullest.used)}/${short(fullest.limit)} ${fullest.name}`;
}
