/** The versions kept of the open file: view one, compare it with the file now, restore it. */
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { errorMessage, type FileHistory, type VersionContent } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import { languageForPath } from '../lib/languages';
import { formatSize, formatWhen } from '../lib/time';
import type { Services } from '../services';
import type { Notify } from './Toasts';

const DiffReview = lazy(() => import('./DiffReview'));

interface Props {
  services: Services;
  /** The open document, or null. */
  path: string | null;
  visible: boolean;
  getEditor: () => EditorHandle | null;
  /** Whether the open document has unsaved changes that a restore would drop. */
  isDirty: (path: string) => boolean;
  /** Whether the open document has unsaved edits now: a save (true to false) adds a version. */
  dirtyNow: boolean;
  onRestored: (path: string) => void;
  notify: Notify;
}

const REASONS: Record<string, string> = {
  save: 'saved over',
  kernel: 'written by code',
  restore: 'before a restore',
  delete: 'deleted',
  checkpoint: 'checkpoint',
};

interface Compare {
  version: VersionContent;
  current: string;
}

export default function HistoryPanel({
  services,
  path,
  visible,
  getEditor,
  isDirty,
  dirtyNow,
  onRestored,
  notify,
}: Props) {
  const [history, setHistory] = useState<FileHistory | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [selected, setSelected] = useState<VersionContent | null>(null);
  const [compare, setCompare] = useState<Compare | null>(null);
  const [busy, setBusy] = useState(false);
  const client = services.ide;

  const load = useCallback(async () => {
    if (!path) {
      setHistory(null);
      return;
    }
    try {
      const next = await client.history(path);
      setHistory(next);
      setProblem(null);
    } catch (e) {
      setProblem(`Could not list the versions of ${path}: ${await errorMessage(e)}`);
    }
  }, [client, path]);

  useEffect(() => {
    setSelected(null);
    if (visible) {
      void load();
    }
  }, [load, visible]);

  useEffect(() => {
    if (visible && !dirtyNow) {
      void load(); // just saved: the content before the save is a new version
    }
    // Only the change of dirtiness matters here.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dirtyNow]);

  const open = async (id: number) => {
    try {
      setSelected(await client.historyVersion(id));
    } catch (e) {
      notify('error', `Could not read that version: ${await errorMessage(e)}`);
    }
  };

  const currentText = async (file: string): Promise<string> => {
    const editor = getEditor();
    if (editor && editor.kind === 'file' && editor.path === file) {
      return editor.getValue(); // with unsaved edits: what the student sees
    }
    const model = await services.contents.get(file, {
      type: 'file',
      format: 'text',
      content: true,
    });
    return String(model.content ?? '');
  };

  const compareWith = async (version: VersionContent) => {
    try {
      setCompare({ version, current: history?.current ? await currentText(version.path) : '' });
    } catch (e) {
      notify('error', `Could not read the current ${version.path}: ${await errorMessage(e)}`);
    }
  };

  const restore = async (version: VersionContent) => {
    const unsaved = isDirty(version.path);
    const question = unsaved
      ? `${version.path} has unsaved changes. Restore the version of ${formatWhen(version.modifiedAt)} and drop them?`
      : `Restore the version of ${formatWhen(version.modifiedAt)}? The current content is kept as a version.`;
    if (!window.confirm(question)) {
      return;
    }
    setBusy(true);
    try {
      await client.restoreVersion(version.id);
      setCompare(null);
      setSelected(null);
      onRestored(version.path);
      notify(
        'info',
        `Restored ${version.path} to its version of ${formatWhen(version.modifiedAt)}`,
      );
      await load();
    } catch (e) {
      notify('error', `Could not restore ${version.path}: ${await errorMessage(e)}`);
    } finally {
      setBusy(false);
    }
  };

  if (!path) {
    return <p className="muted panel-note">Open a file to see its history.</p>;
  }
  const binary = selected?.format === 'base64';
  return (
    <div className="history-panel" data-testid="history-panel">
      <div className="panel-header">
        <span className="panel-title" title={path}>
          {path}
        </span>
        <span className="toolbar-spacer" />
        <button data-testid="history-refresh" title="Refresh" onClick={() => void load()}>
          ⟳
        </button>
      </div>
      {problem && <div className="banner banner-error">{problem}</div>}
      {history && !history.versions.length && (
        <p className="muted panel-note" data-testid="history-empty">
          No earlier versions yet: each save keeps the one before.
        </p>
      )}
      <ul className="history-list" data-testid="history-list">
        {history?.versions.map((v) => (
          <li
            key={v.id}
            className={`history-item ${selected?.id === v.id ? 'history-selected' : ''}`}
            data-testid="history-version"
            onClick={() => void open(v.id)}
          >
            <span className="history-when">{formatWhen(v.modifiedAt)}</span>
            <span className="muted">{REASONS[v.reason] ?? v.reason}</span>
            <span className="toolbar-spacer" />
            <span className="muted">{formatSize(v.size)}</span>
          </li>
        ))}
      </ul>
      {selected && (
        <div className="history-preview" data-testid="history-preview">
          <div className="panel-header">
            <span>Version of {formatWhen(selected.modifiedAt)}</span>
            <span className="toolbar-spacer" />
            <button
              data-testid="history-compare"
              disabled={binary}
              onClick={() => void compareWith(selected)}
            >
              Compare with current
            </button>
            <button
              className="primary"
              data-testid="history-restore"
              disabled={busy}
              onClick={() => void restore(selected)}
            >
              Restore
            </button>
          </div>
          <pre className="history-content">
            {binary ? '[binary content: restore it to see it]' : selected.content}
          </pre>
        </div>
      )}
      {compare && (
        <Suspense fallback={null}>
          <DiffReview
            title={`${compare.version.path}: version of ${formatWhen(compare.version.modifiedAt)}`}
            sides="that version ⟷ current"
            original={compare.version.content}
            modified={compare.current}
            language={languageForPath(compare.version.path)}
            acceptLabel="Restore that version"
            editable={false}
            onAccept={() => void restore(compare.version)}
            onClose={() => setCompare(null)}
          />
        </Suspense>
      )}
    </div>
  );
}
