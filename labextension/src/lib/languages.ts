/** Monaco language ids by file extension. */
const BY_EXTENSION: Record<string, string> = {
  py: 'python',
  pyi: 'python',
  ipynb: 'json',
  c: 'c',
  h: 'c',
  cc: 'cpp',
  cpp: 'cpp',
  cxx: 'cpp',
  hpp: 'cpp',
  hh: 'cpp',
  java: 'java',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  go: 'go',
  rs: 'rust',
  sh: 'shell',
  bash: 'shell',
  json: 'json',
  md: 'markdown',
  markdown: 'markdown',
  html: 'html',
  htm: 'html',
  css: 'css',
  scss: 'scss',
  yml: 'yaml',
  yaml: 'yaml',
  toml: 'ini',
  ini: 'ini',
  cfg: 'ini',
  sql: 'sql',
  xml: 'xml',
  svg: 'xml',
  r: 'r',
  rb: 'ruby',
  kt: 'kotlin',
  swift: 'swift',
  txt: 'plaintext',
};

const BY_NAME: Record<string, string> = {
  makefile: 'shell',
  dockerfile: 'dockerfile',
};

/** Return the Monaco language id for a file path ("plaintext" when unknown). */
export function languageForPath(path: string): string {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  const byName = BY_NAME[name];
  if (byName) {
    return byName;
  }
  const dot = name.lastIndexOf('.');
  if (dot <= 0) {
    return 'plaintext';
  }
  return BY_EXTENSION[name.slice(dot + 1)] ?? 'plaintext';
}

/** Kernel language names (language_info.name, kernelspec language) that differ from Monaco's. */
const KERNEL_LANGUAGES: Record<string, string> = {
  'c++': 'cpp',
  'c++11': 'cpp',
  'c++14': 'cpp',
  'c++17': 'cpp',
  'c++20': 'cpp',
  bash: 'shell',
  sh: 'shell',
  node: 'javascript',
  nodejs: 'javascript',
  js: 'javascript',
  golang: 'go',
  ts: 'typescript',
  python3: 'python',
};

/** Return the Monaco language id for a kernel's language name. */
export function languageForKernel(language: string): string {
  const name = language.trim().toLowerCase();
  return KERNEL_LANGUAGES[name] ?? (name || 'plaintext');
}

/** Return the last segment of a path. */
export function baseName(path: string): string {
  return path.split('/').pop() ?? path;
}

/** Return the folder part of a path ("" for the root). */
export function dirName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Join path segments, skipping empty ones. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}

/** Return a reason a new file name is unusable, or null when it is fine. */
export function invalidName(name: string): string | null {
  if (name.trim() === '') {
    return 'A name cannot be empty';
  }
  if (name.includes('/') || name.includes('\\')) {
    return 'A name cannot contain / or \\';
  }
  if (name === '.' || name === '..') {
    return 'This name is reserved';
  }
  return null;
}

/** Map every path under `from` to the same place under `to`. */
export function renamePath(path: string, from: string, to: string): string {
  if (path === from) {
    return to;
  }
  return path.startsWith(`${from}/`) ? to + path.slice(from.length) : path;
}

/** True when `path` is `folder` or inside it. */
export function isUnder(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`);
}
