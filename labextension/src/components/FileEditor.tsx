/** A text file in Monaco: save with Ctrl/Cmd+S, autosave, and "changed on disk" detection. */
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import { DiskConflictBanner } from './DiskConflictBanner';
import { attachDebugGutter } from '../lib/debugGutter';
import { AUTOSAVE_MS, decideOnFocus, decideSave, type DiskState } from '../lib/diskState';
import type { EditorHandle } from '../lib/editorHandle';
import { handleFor } from '../monaco/editorHandle';
import { languageForPath } from '../lib/languages';
import { attachLive } from '../lib/liveEditor';
import { makeQueue } from '../lib/queue';
import { useLspFile } from '../lsp/useLsp';
import { reportActivity } from '../lib/activityEditor';
import { enableInlineCompletions, registerInlineCompletions } from '../monaco/inlineCompletions';
import { monaco } from '../monaco/setup';
import type { Services } from '../services';
import type { Notify } from './Toasts';

interface Props {
  path: string;
  services: Services;
  active: boolean;
  onDirty: (path: string, dirty: boolean) => void;
  /** Called with a handle when the editor is ready, and with null when it goes. */
  onEditor?: (path: string, handle: EditorHandle | null) => void;
  notify: Notify;
}

export default function FileEditor({ path, services, active, onDirty, onEditor, notify }: Props) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const disk = useRef<DiskState>({ knownModified: null, dirty: false });
  const autosave = useRef<number | undefined>(undefined);
  const [queue] = useState(makeQueue);
  const [conflict, setConflict] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const contents = services.contents;
  // The path this editor was opened with or last renamed to (the tab follows renames).
  const pathRef = useRef(path);

  const setDirty = useCallback(
    (dirty: boolean) => {
      disk.current.dirty = dirty;
      onDirty(path, dirty);
    },
    [onDirty, path],
  );

  const remoteModified = useCallback(async (): Promise<string | null> => {
    try {
      return (await contents.get(path, { content: false })).last_modified;
    } catch {
      return null;
    }
  }, [contents, path]);

  const reload = useCallback(async () => {
    const model = await contents.get(path, { type: 'file', content: true });
    if (model.format === 'base64') {
      setProblem('This is a binary file; it cannot be edited here.');
      return;
    }
    editor.current?.getModel()?.setValue(String(model.content ?? ''));
    disk.current.knownModified = model.last_modified;
    setDirty(false);
    setConflict(false);
  }, [contents, path, setDirty]);

  const save = useCallback(
    (force = false) =>
      queue(async () => {
        window.clearTimeout(autosave.current);
        const text = editor.current?.getModel()?.getValue();
        if (text === undefined) {
          return;
        }
        if (!force && decideSave(disk.current, await remoteModified()) === 'conflict') {
          setConflict(true);
          return;
        }
        try {
          const saved = await contents.save(path, { type: 'file', format: 'text', content: text });
          disk.current.knownModified = saved.last_modified;
          if (editor.current?.getModel()?.getValue() === text) {
            setDirty(false);
          }
          setConflict(false);
        } catch (e) {
          notify('error', `Could not save ${path}: ${await errorMessage(e)}`);
        }
      }),
    [queue, contents, notify, path, remoteModified, setDirty],
  );

  const saveRef = useRef(save);
  saveRef.current = save;
  const editorRef = useRef(onEditor);
  editorRef.current = onEditor;

  useEffect(() => {
    if (!host.current) {
      return;
    }
    const instance = monaco.editor.create(host.current, {
      value: '',
      language: languageForPath(path),
      automaticLayout: true,
      minimap: { enabled: false },
      fontSize: 14,
      tabSize: 4,
      scrollBeyondLastLine: false,
      inlineSuggest: { enabled: true },
      glyphMargin: true,
    });
    editor.current = instance;
    const model = instance.getModel();
    if (model) {
      registerInlineCompletions(services.ide);
      enableInlineCompletions(model, path);
    }
    instance.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => void saveRef.current());
    let loading = true;
    let leaveLive: (() => void) | null = null;
    const changes = instance.onDidChangeModelContent(() => {
      if (loading) {
        return;
      }
      setDirty(true);
      window.clearTimeout(autosave.current);
      autosave.current = window.setTimeout(() => void saveRef.current(), AUTOSAVE_MS);
    });
    reload()
      .catch(async (e) => setProblem(`Could not open ${path}: ${await errorMessage(e)}`))
      .finally(() => {
        loading = false;
        if (editor.current === instance) {
          // Live view (students in a course): the loaded text joins the file's room.
          leaveLive = attachLive(services, instance, path);
        }
      });
    editorRef.current?.(path, handleFor(path, instance));
    const stopActivity = reportActivity(instance, () => pathRef.current, services.ide);
    const stopGutter = attachDebugGutter(instance, () => pathRef.current);
    return () => {
      stopGutter();
      stopActivity();
      editorRef.current?.(pathRef.current, null);
      window.clearTimeout(autosave.current);
      leaveLive?.();
      changes.dispose();
      instance.dispose();
      model?.dispose();
      editor.current = null;
    };
    // Created once per open tab (a rename moves it, below); save/reload are read through refs.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useLspFile(editor, path, services);

  useEffect(() => {
    const instance = editor.current;
    if (pathRef.current === path || !instance) {
      return;
    }
    // Renamed or moved while open: keep the text and its unsaved edits, follow the new path.
    pathRef.current = path;
    const model = instance.getModel();
    if (model) {
      monaco.editor.setModelLanguage(model, languageForPath(path));
      enableInlineCompletions(model, path);
    }
    editorRef.current?.(path, handleFor(path, instance));
    onDirty(path, disk.current.dirty);
    void contents
      .get(path, { content: false })
      .then((renamed) => {
        disk.current.knownModified = renamed.last_modified;
      })
      .catch(() => undefined);
  }, [contents, onDirty, path]);

  useEffect(() => {
    if (active) {
      editor.current?.focus();
    }
    const onFocus = async () => {
      if (!active) {
        return;
      }
      const decision = decideOnFocus(disk.current, await remoteModified());
      if (decision === 'reload') {
        try {
          await reload();
          notify('info', `${path} changed on disk and was reloaded`);
        } catch (e) {
          notify('error', `Could not reload ${path}: ${await errorMessage(e)}`);
        }
      } else if (decision === 'conflict') {
        setConflict(true);
      }
    };
    const listener = () => {
      if (document.visibilityState === 'visible') {
        void onFocus();
      }
    };
    window.addEventListener('focus', listener);
    document.addEventListener('visibilitychange', listener);
    return () => {
      window.removeEventListener('focus', listener);
      document.removeEventListener('visibilitychange', listener);
    };
  }, [active, notify, path, reload, remoteModified]);

  return (
    <div className="file-editor" data-testid={`editor-${path}`}>
      {conflict && (
        <DiskConflictBanner
          path={path}
          onReload={() => void reload()}
          onOverwrite={() => void save(true)}
        />
      )}
      {problem && <div className="banner banner-error">{problem}</div>}
      <div className="monaco-host" ref={host} />
    </div>
  );
}
