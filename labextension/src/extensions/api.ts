/** The IDE's side of the message API: what each (already permitted) call does. */
import { isPending, type Submission } from '../lib/judge';
import type { EditorHandle } from '../lib/editorHandle';
import type { Install } from './permissions';
import { addCommand, setPanel, setStatusItem } from './store';

/** The IDE parts an extension's calls reach. */
export interface ApiDeps {
  getEditor: () => EditorHandle | null;
  readFile: (path: string) => Promise<string>;
  listFiles: (path: string) => Promise<{ name: string; type: string }[]>;
  writeFile: (path: string, content: string) => Promise<void>;
  submit: (run: { source: string; languageId: number; stdin?: string }) => Promise<string>;
  submissions: (tokens: string[]) => Promise<Submission[]>;
  complete: (prompt: string) => Promise<string>;
  saveSettings: (settings: Record<string, unknown>) => Promise<Install>;
}

const RUN_POLL_MS = 300;
const RUN_MAX_POLLS = 200;
const MAX_ID = 100;

function field(params: unknown, key: string): unknown {
  return typeof params === 'object' && params !== null
    ? (params as Record<string, unknown>)[key]
    : undefined;
}

function idOf(params: unknown): string {
  const id = field(params, 'id');
  if (typeof id !== 'string' || !id || id.length > MAX_ID) {
    throw new Error(`id is a string of 1 to ${MAX_ID} characters`);
  }
  return id;
}

function editor(deps: ApiDeps): EditorHandle {
  const handle = deps.getEditor();
  if (!handle) {
    throw new Error('No document is open');
  }
  return handle;
}

/** The settings an extension sees: its manifest's defaults, then the user's values. */
export function effectiveSettings(install: Install): Record<string, unknown> {
  const schema = install.manifest.settings;
  const out: Record<string, unknown> = {};
  if (typeof schema === 'object' && schema !== null) {
    for (const [key, spec] of Object.entries(schema as Record<string, unknown>)) {
      const value = field(spec, 'default');
      if (value !== undefined) {
        out[key] = value;
      }
    }
  }
  return { ...out, ...install.settings };
}

function contributed(install: Install, kind: string, id: string): Record<string, unknown> | null {
  const contributes = install.manifest.contributes;
  const list = field(contributes, kind);
  if (!Array.isArray(list)) {
    return null;
  }
  const found: unknown = list.find((item: unknown) => field(item, 'id') === id);
  return typeof found === 'object' && found !== null ? (found as Record<string, unknown>) : null;
}

async function runCode(deps: ApiDeps, params: unknown): Promise<unknown> {
  const source = field(params, 'source');
  const languageId = field(params, 'languageId') ?? 71;
  const stdin = field(params, 'stdin') ?? '';
  if (typeof source !== 'string' || typeof languageId !== 'number' || typeof stdin !== 'string') {
    throw new Error('run.code takes {source, languageId?, stdin?}');
  }
  const token = await deps.submit({ source, languageId, stdin });
  for (let i = 0; i < RUN_MAX_POLLS; i += 1) {
    const [result] = await deps.submissions([token]);
    if (result && !isPending(result.status)) {
      return {
        status: result.status.description,
        stdout: result.stdout,
        stderr: result.stderr,
        compileOutput: result.compileOutput,
        exitCode: result.exitCode,
      };
    }
    await new Promise((resolve) => setTimeout(resolve, RUN_POLL_MS));
  }
  throw new Error('The run did not finish in time');
}

/** Carry out a call the gate allowed; return its result or throw an Error for the extension. */
export async function perform(
  install: Install,
  method: string,
  params: unknown,
  deps: ApiDeps,
): Promise<unknown> {
  switch (method) {
    case 'editor.getText':
      return deps.getEditor()?.getValue() ?? null;
    case 'editor.getSelection':
      return deps.getEditor()?.context().selection ?? null;
    case 'editor.setText':
      editor(deps).replaceAll(String(field(params, 'text') ?? ''));
      return null;
    case 'editor.insert':
      editor(deps).insertAtCursor(String(field(params, 'text') ?? ''));
      return null;
    case 'workspace.readFile':
      return deps.readFile(String(field(params, 'path')));
    case 'workspace.list':
      return deps.listFiles(String(field(params, 'path') ?? ''));
    case 'workspace.writeFile': {
      const content = field(params, 'content');
      if (typeof content !== 'string') {
        throw new Error('workspace.writeFile takes {path, content}');
      }
      await deps.writeFile(String(field(params, 'path')), content);
      return null;
    }
    case 'run.code':
      return runCode(deps, params);
    case 'ai.chat': {
      const prompt = field(params, 'prompt');
      if (typeof prompt !== 'string' || !prompt) {
        throw new Error('ai.chat takes {prompt}');
      }
      return deps.complete(prompt);
    }
    case 'statusbar.set': {
      const id = idOf(params);
      setStatusItem({ extension: install.name, id, text: String(field(params, 'text')) });
      return null;
    }
    case 'panel.setText': {
      const id = idOf(params);
      const declared = contributed(install, 'panels', id);
      if (!declared) {
        throw new Error(`The extension declares no panel ${id}`);
      }
      const title = typeof declared.title === 'string' ? declared.title : id;
      setPanel({ extension: install.name, id, title, text: String(field(params, 'text') ?? '') });
      return null;
    }
    case 'commands.register': {
      const id = idOf(params);
      const declared = contributed(install, 'commands', id);
      if (!declared) {
        throw new Error(`The extension declares no command ${id}`);
      }
      const title = typeof declared.title === 'string' ? declared.title : id;
      addCommand({ extension: install.name, id, title });
      return null;
    }
    case 'settings.get':
      return effectiveSettings(install);
    case 'settings.set': {
      const values = field(params, 'values');
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        throw new Error('settings.set takes {values: {...}}');
      }
      const saved = await deps.saveSettings({ ...install.settings, ...values });
      return effectiveSettings(saved);
    }
    default:
      throw new Error(`${method} cannot be called (it is an event)`);
  }
}
