/** Which Monaco languages language servers serve, and their names in specs and in LSP. */

/** Names a jupyter-lsp spec may list for a Monaco language id. */
const SPEC_NAMES: Record<string, string[]> = {
  python: ['python'],
  c: ['c'],
  cpp: ['cpp', 'c++'],
  javascript: ['javascript'],
  typescript: ['typescript'],
  go: ['go'],
  shell: ['bash', 'sh', 'shell', 'shellscript'],
  java: ['java'],
  rust: ['rust'],
};

/** LSP languageIds for didOpen where they differ from Monaco's. */
const LSP_IDS: Record<string, string> = { shell: 'shellscript' };

/** File extensions for a notebook's virtual document, by Monaco language. */
const EXTENSIONS: Record<string, string> = {
  python: 'py',
  c: 'c',
  cpp: 'cpp',
  javascript: 'js',
  typescript: 'ts',
  go: 'go',
  shell: 'sh',
  java: 'java',
  rust: 'rs',
};

/** True when a language server may serve this Monaco language. */
export function lspLanguage(language: string): boolean {
  return language in SPEC_NAMES;
}

/** The LSP languageId for a Monaco language id. */
export function lspLanguageId(language: string): string {
  return LSP_IDS[language] ?? language;
}

/** The extension a notebook's virtual document gets for its language. */
export function virtualExtension(language: string): string {
  return EXTENSIONS[language] ?? 'txt';
}

/** A spec registry entry, as /lsp/status lists it. */
export interface SpecInfo {
  languages?: string[];
  display_name?: string;
}

/** The key of the server for a Monaco language among the specs, or null. */
export function serverFor(specs: Record<string, SpecInfo>, language: string): string | null {
  const names = SPEC_NAMES[language] ?? [];
  const keys = Object.keys(specs).sort();
  for (const key of keys) {
    const langs = (specs[key]?.languages ?? []).map((l) => l.toLowerCase());
    if (names.some((n) => langs.includes(n))) {
      return key;
    }
  }
  return null;
}
