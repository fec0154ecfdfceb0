/** Convert text with ANSI SGR colour codes (as in Python tracebacks) to safe HTML. */

const COLOURS = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

/** Escape the characters that are special in HTML. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

interface Style {
  fg: string | null;
  bg: string | null;
  bold: boolean;
}

function applyCodes(style: Style, codes: number[]): Style {
  let next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? 0;
    if (code === 0) {
      next = { fg: null, bg: null, bold: false };
    } else if (code === 1) {
      next.bold = true;
    } else if (code === 22) {
      next.bold = false;
    } else if (code >= 30 && code <= 37) {
      next.fg = `ansi-${COLOURS[code - 30]}`;
    } else if (code >= 90 && code <= 97) {
      next.fg = `ansi-bright-${COLOURS[code - 90]}`;
    } else if (code === 39) {
      next.fg = null;
    } else if (code >= 40 && code <= 47) {
      next.bg = `ansi-bg-${COLOURS[code - 40]}`;
    } else if (code === 49) {
      next.bg = null;
    } else if (code === 38 || code === 48) {
      // 256-colour and true-colour forms: skip their arguments.
      i += codes[i + 1] === 5 ? 2 : 4;
    }
  }
  return next;
}

function open(style: Style): string {
  const classes = [style.fg, style.bg, style.bold ? 'ansi-bold' : null].filter(Boolean);
  return classes.length ? `<span class="${classes.join(' ')}">` : '';
}

/** Return HTML for ``text``: escaped, with colour codes turned into classed spans. */
export function ansiToHtml(text: string): string {
  // eslint-disable-next-line no-control-regex
  const pattern = /\x1b\[([0-9;]*)m/g;
  let style: Style = { fg: null, bg: null, bold: false };
  let html = '';
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const chunk = text.slice(last, match.index);
    html += wrap(chunk, style);
    const codes = (match[1] ?? '').split(';').map((c) => (c === '' ? 0 : Number(c)));
    style = applyCodes(style, codes);
    last = (match.index ?? 0) + match[0].length;
  }
  html += wrap(text.slice(last), style);
  // Drop any other escape sequences (cursor moves and the like).
  // eslint-disable-next-line no-control-regex
  return html.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}

function wrap(chunk: string, style: Style): string {
  if (chunk === '') {
    return '';
  }
  const start = open(style);
  return start ? `${start}${escapeHtml(chunk)}</span>` : escapeHtml(chunk);
}

/** Remove ANSI escape sequences entirely. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
}
