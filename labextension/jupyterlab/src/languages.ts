/** Judge0 CE language ids of the sandbox's eight languages, by file extension. */

export interface JudgeLanguage {
  id: number;
  name: string;
}

const LANGUAGES: Record<string, JudgeLanguage> = {
  py: { id: 71, name: 'Python' },
  c: { id: 50, name: 'C' },
  cpp: { id: 54, name: 'C++' },
  cc: { id: 54, name: 'C++' },
  cxx: { id: 54, name: 'C++' },
  java: { id: 62, name: 'Java' },
  js: { id: 63, name: 'JavaScript' },
  mjs: { id: 63, name: 'JavaScript' },
  go: { id: 60, name: 'Go' },
  rs: { id: 73, name: 'Rust' },
  sh: { id: 46, name: 'Bash' },
};

/** The language a file runs as, by its extension, or null when the sandbox cannot run it. */
export function languageOf(path: string): JudgeLanguage | null {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  const dot = name.lastIndexOf('.');
  return dot > 0 ? (LANGUAGES[name.slice(dot + 1)] ?? null) : null;
}

/** The extensions of the files "Run in sandbox" offers itself for. */
export const RUNNABLE_EXTENSIONS = Object.keys(LANGUAGES);
