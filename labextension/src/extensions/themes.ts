/** Colour themes and snippets from declarative packages, turned into Monaco's shapes. */

/** Monaco's theme data (the fields we fill). */
export interface MonacoTheme {
  base: 'vs' | 'vs-dark' | 'hc-black' | 'hc-light';
  inherit: boolean;
  rules: { token: string; foreground?: string; background?: string; fontStyle?: string }[];
  colors: Record<string, string>;
}

/** A snippet as Monaco's completion item needs it. */
export interface Snippet {
  label: string;
  prefix: string;
  body: string;
  description: string;
}

const COLOR = /^#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** Parse JSON that may carry comments and trailing commas (VS Code's JSONC). */
export function parseJsonc(text: string): unknown {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 1;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

function baseOf(uiTheme: unknown, type: unknown): MonacoTheme['base'] {
  if (
    uiTheme === 'vs' ||
    uiTheme === 'vs-dark' ||
    uiTheme === 'hc-black' ||
    uiTheme === 'hc-light'
  ) {
    return uiTheme;
  }
  if (type === 'light') return 'vs';
  if (type === 'hc') return 'hc-black';
  return 'vs-dark';
}

function color(value: unknown): string | undefined {
  return typeof value === 'string' && COLOR.test(value) ? value.slice(1) : undefined;
}

/** Turn a VS Code colour theme into Monaco's theme data; unknown or bad colours are left out. */
export function toMonacoTheme(theme: unknown, uiTheme?: unknown): MonacoTheme {
  const raw = (typeof theme === 'object' && theme !== null ? theme : {}) as Record<string, unknown>;
  const colors: Record<string, string> = {};
  if (typeof raw.colors === 'object' && raw.colors !== null) {
    for (const [key, value] of Object.entries(raw.colors as Record<string, unknown>)) {
      if (typeof value === 'string' && COLOR.test(value)) {
        colors[key] = value;
      }
    }
  }
  const rules: MonacoTheme['rules'] = [];
  const tokenColors = Array.isArray(raw.tokenColors) ? raw.tokenColors : [];
  for (const item of tokenColors) {
    if (typeof item !== 'object' || item === null) continue;
    const { scope, settings } = item as { scope?: unknown; settings?: unknown };
    const s = (typeof settings === 'object' && settings !== null ? settings : {}) as Record<
      string,
      unknown
    >;
    const scopes =
      typeof scope === 'string'
        ? scope.split(',')
        : Array.isArray(scope)
          ? scope.filter((x): x is string => typeof x === 'string')
          : [''];
    for (const one of scopes) {
      const rule: MonacoTheme['rules'][number] = { token: one.trim() };
      const fg = color(s.foreground);
      const bg = color(s.background);
      if (fg) rule.foreground = fg;
      if (bg) rule.background = bg;
      if (typeof s.fontStyle === 'string') rule.fontStyle = s.fontStyle;
      if (fg || bg || rule.fontStyle !== undefined) rules.push(rule);
    }
  }
  return { base: baseOf(uiTheme, raw.type), inherit: true, rules, colors };
}

/** Read a VS Code snippets file ({name: {prefix, body, description}}). */
export function parseSnippets(data: unknown): Snippet[] {
  if (typeof data !== 'object' || data === null) {
    return [];
  }
  const out: Snippet[] = [];
  for (const [label, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const v = value as { prefix?: unknown; body?: unknown; description?: unknown };
    const prefixes = Array.isArray(v.prefix) ? v.prefix : [v.prefix];
    const body = Array.isArray(v.body)
      ? v.body.filter((l) => typeof l === 'string').join('\n')
      : v.body;
    if (typeof body !== 'string') continue;
    for (const prefix of prefixes) {
      if (typeof prefix === 'string' && prefix) {
        out.push({
          label,
          prefix,
          body,
          description: typeof v.description === 'string' ? v.description : label,
        });
      }
    }
  }
  return out.slice(0, 1000);
}

/** A Monaco theme id for a package's theme. */
export function themeId(name: string, index: number): string {
  return `ext-${name.replace(/[^a-z0-9-]/gi, '-')}-${index}`.toLowerCase();
}
