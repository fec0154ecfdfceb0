/** What the debugger can do with an open file: which kernel debugs it, or why it cannot. */

export type DebugTarget =
  | { kind: 'file'; path: string; kernel: string }
  | { kind: 'notebook'; path: string }
  | { kind: 'program'; path: string; language: 'c' | 'cpp' }
  | { kind: 'unsupported'; path: string; reason: string };

/** Decide how ``path`` is debugged. */
export function debugTarget(path: string): DebugTarget {
  const lower = path.toLowerCase();
  if (lower.endsWith('.ipynb')) {
    return { kind: 'notebook', path };
  }
  if (lower.endsWith('.py')) {
    return { kind: 'file', path, kernel: 'ide-python' };
  }
  if (lower.endsWith('.c')) {
    return { kind: 'program', path, language: 'c' };
  }
  if (['.cpp', '.cc', '.cxx', '.c++'].some((suffix) => lower.endsWith(suffix))) {
    return { kind: 'program', path, language: 'cpp' };
  }
  return {
    kind: 'unsupported',
    path,
    reason: 'The debugger runs Python files, notebooks, C and C++ programs here.',
  };
}
