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

/** A colour is either one of the 16 themed classes or an exact rgb() value. */
type Colour = { kind: 'class'; name: string } | { kind: 'rgb'; value: string } | null;

interface Style {
  fg: Colour;
  bg: Colour;
  bold: boolean;
  underline: boolean;
}

const PLAIN: Style = { fg: null, bg: null, bold: false, underline: false };

function clampByte(value: number | undefined): number {
  return Math.max(0, Math.min(255, Math.round(value ?? 0)));
}

/** The rgb() of an entry of the xterm 256-colour palette (16–255). */
export function palette256(index: number): string {
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level}, ${level}, ${level})`;
  }
  const cube = index - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  const r = steps[Math.floor(cube / 36) % 6] ?? 0;
  const g = steps[Math.floor(cube / 6) % 6] ?? 0;
  const b = steps[cube % 6] ?? 0;
  return `rgb(${r}, ${g}, ${b})`;
}

function indexedColour(index: number, prefix: '' | 'bg-'): Colour {
  if (index < 8) {
    return { kind: 'class', name: `ansi-${prefix}${COLOURS[index]}` };
  }
  if (index < 16) {
    return { kind: 'class', name: `ansi-${prefix}bright-${COLOURS[index - 8]}` };
  }
  return { kind: 'rgb', value: palette256(Math.min(index, 255)) };
}

/** Read an extended colour (38;5;n or 38;2;r;g;b) starting at codes[i]; return it and its length. */
function extendedColour(codes: number[], i: number, prefix: '' | 'bg-'): [Colour, number] {
  const mode = codes[i + 1];
  if (mode === 5) {
    return [indexedColour(clampByte(codes[i + 2]), prefix), 2];
  }
  if (mode === 2) {
    const [r, g, b] = [codes[i + 2], codes[i + 3], codes[i + 4]].map(clampByte);
    return [{ kind: 'rgb', value: `rgb(${r}, ${g}, ${b})` }, 4];
  }
  return [null, 0];
}

/** Apply one SGR sequence's numbers to a style. */
export function applyCodes(style: Style, codes: number[]): Style {
  let next = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? 0;
    if (code === 0) {
      next = { ...PLAIN };
    } else if (code === 1) {
      next.bold = true;
    } else if (code === 4) {
      next.underline = true;
    } else if (code === 22) {
      next.bold = false;
    } else if (code === 24) {
      next.underline = false;
    } else if (code >= 30 && code <= 37) {
      next.fg = indexedColour(code - 30, '');
    } else if (code >= 90 && code <= 97) {
      next.fg = indexedColour(code - 90 + 8, '');
    } else if (code === 39) {
      next.fg = null;
    } else if (code >= 40 && code <= 47) {
      next.bg = indexedColour(code - 40, 'bg-');
    } else if (code >= 100 && code <= 107) {
      next.bg = indexedColour(code - 100 + 8, 'bg-');
    } else if (code === 49) {
      next.bg = null;
    } else if (code === 38 || code === 48) {
      const [colour, used] = extendedColour(codes, i, code === 38 ? '' : 'bg-');
      if (code === 38) {
        next.fg = colour;
      } else {
        next.bg = colour;
      }
      i += used;
    }
  }
  return next;
}

function open(style: Style): string {
  const classes: string[] = [];
  const css: string[] = [];
  if (style.fg?.kind === 'class') {
    classes.push(style.fg.name);
  } else if (style.fg?.kind === 'rgb') {
    css.push(`color: ${style.fg.value}`);
  }
  if (style.bg?.kind === 'class') {
    classes.push(style.bg.name);
  } else if (style.bg?.kind === 'rgb') {
    css.push(`background-color: ${style.bg.value}`);
  }
  if (style.bold) {
    classes.push('ansi-bold');
  }
  if (style.underline) {
    classes.push('ansi-underline');
  }
  if (!classes.length && !css.length) {
    return '';
  }
  const classAttr = classes.length ? ` class="${classes.join(' ')}"` : '';
  const styleAttr = css.length ? ` style="${css.join('; ')}"` : '';
  return `<span${classAttr}${styleAttr}>`;
}

function wrap(chunk: string, style: Style): string {
  if (chunk === '') {
    return '';
  }
  const start = open(style);
  return start ? `${start}${escapeHtml(chunk)}</span>` : escapeHtml(chunk);
}

// CSI sequences (ESC [ … final byte) and OSC sequences (ESC ] … BEL or ESC \).
// eslint-disable-next-line no-control-regex
const OTHER_ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** Return HTML for ``text``: escaped, with colour codes turned into classed spans. */
export function ansiToHtml(text: string): string {
  // eslint-disable-next-line no-control-regex
  const sgr = /\x1b\[([0-9;]*)m/g;
  let style: Style = { ...PLAIN };
  let html = '';
  let last = 0;
  for (const match of text.matchAll(sgr)) {
    html += wrap(stripAnsi(text.slice(last, match.index)), style);
    const codes = (match[1] ?? '').split(';').map((c) => (c === '' ? 0 : Number(c)));
    style = applyCodes(style, codes);
    last = match.index + match[0].length;
  }
  html += wrap(stripAnsi(text.slice(last)), style);
  return html;
}

/** Remove ANSI escape sequences entirely. */
export function stripAnsi(text: string): string {
  return text.replace(OTHER_ESCAPES, '');
}
