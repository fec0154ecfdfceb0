/** A notebook: Monaco cells, rendered markdown, a kernel session, and rich outputs. */
import type { KernelSpec, Session } from '@jupyterlab/services';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import { DiskConflictBanner } from './DiskConflictBanner';
import { documentPolicy } from '../lib/contentPolicy';
import { AUTOSAVE_MS, decideOnFocus, decideSave, type DiskState } from '../lib/diskState';
import { baseName, languageForKernel } from '../lib/languages';
import {
  fromJSON,
  insertAfter,
  moveCell,
  newCell,
  removeCell,
  setCellType,
  toJSON,
  updateCell,
  withKernelMetadata,
  type Cell,
  type CellType,
  type KernelMetadata,
  type Notebook,
} from '../lib/notebook';
import { appendOutput, outputFromMessage, type Output } from '../lib/outputs';
import { makeQueue } from '../lib/queue';
import { deathMessage, formatLimits, specLimits, type SandboxLimits } from '../lib/sandbox';
import type { EditorHandle } from '../lib/editorHandle';
import { attachLiveNotebook, type OwnNotebookLink } from '../lib/liveEditor';
import type { Services } from '../services';
import { CellEditor } from './CellEditor';
import { useLspNotebook } from '../lsp/useLsp';
import { debugBeforeRun } from '../lib/debugKernel';
import { cellKey } from '../lib/debugStore';
import { errorText, OutputArea } from './OutputArea';
import { RenderedMarkdown } from './RenderedMarkdown';
import type { Notify } from './Toasts';

interface Props {
  path: string;
  services: Services;
  active: boolean;
  onDirty: (path: string, dirty: boolean) => void;
  onKernelStatus: (path: string, status: string | null) => void;
  /** The text of the latest error a cell produced, for the assistant's context. */
  onError?: (error: string) => void;
  /** Called with the focused cell's editor, and with null when the notebook closes. */
  onEditor?: (path: string, handle: EditorHandle | null) => void;
  /** Ask the assistant to explain an error; absent when there is no assistant. */
  onExplain?: (error: string) => void;
  notify: Notify;
}

function kernelLanguage(notebook: Notebook | null, specs: KernelSpec.ISpecModels | null): string {
  const info = notebook?.metadata.language_info as { name?: string } | undefined;
  const spec = notebook?.metadata.kernelspec as { name?: string } | undefined;
  return languageForKernel(
    info?.name ?? specs?.kernelspecs[spec?.name ?? '']?.language ?? 'python',
  );
}

export default function NotebookView({
  path,
  services,
  active,
  onDirty,
  onKernelStatus,
  onError,
  onEditor,
  onExplain,
  notify,
}: Props) {
  const [notebook, setNotebook] = useState<Notebook | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  // Markdown cells shown rendered; every other markdown cell is being edited.
  const [rendered, setRendered] = useState<Set<string>>(new Set());
  const [running, setRunning] = useState<Set<string>>(new Set());
  const [specs, setSpecs] = useState<KernelSpec.ISpecModels | null>(null);
  const [status, setStatus] = useState<string>('starting');
  const [conflict, setConflict] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const session = useRef<Session.ISessionConnection | null>(null);
  const notebookRef = useRef<Notebook | null>(null);
  const disk = useRef<DiskState>({ knownModified: null, dirty: false });
  const autosave = useRef<number | undefined>(undefined);
  const [queue] = useState(makeQueue);
  const focusNext = useRef<string | null>(null);
  const [defaults, setDefaults] = useState<SandboxLimits | null>(null);
  const [death, setDeath] = useState<string | null>(null);
  // The running kernel's name (the server may run a notebook's python3 as ide-python), and why
  // the notebook's kernel could not start here (the server names the kernels that can).
  const [kernelName, setKernelName] = useState<string | null>(null);
  const [kernelRefused, setKernelRefused] = useState<string | null>(null);
  // Deaths of the current kernel already shown, and the last one, to name it in cell errors.
  const deathsSeen = useRef(0);
  const lastDeath = useRef<{ message: string; at: number } | null>(null);
  // The path this view was opened with or last renamed to (the tab follows renames).
  const pathRef = useRef(path);
  const policy = useMemo(() => documentPolicy(path), [path]);
  // The notebook's live room (students of a course): the instructor sees it as it is typed.
  const [live, setLive] = useState<OwnNotebookLink | null>(null);
  const remoteCells = useRef<(cells: Cell[]) => void>(() => undefined);

  /** The running kernel's spec and language_info, to record in the notebook on save. */
  const kernelMetadata = useCallback(async (): Promise<KernelMetadata | null> => {
    const kernel = session.current?.kernel;
    if (!kernel) {
      return null;
    }
    const spec = services.kernelspecs.specs?.kernelspecs[kernel.name];
    const reply = await Promise.race([
      kernel.info.catch(() => null),
      new Promise<null>((resolve) => window.setTimeout(() => resolve(null), 2000)),
    ]);
    return {
      kernelspec: {
        name: kernel.name,
        display_name: spec?.display_name ?? kernel.name,
        language: spec?.language,
      },
      languageInfo: reply ? (reply.language_info as unknown as Record<string, unknown>) : null,
    };
  }, [services.kernelspecs]);

  /** Ask the server whether the kernel died, and why; poll a moment while it notices. */
  const checkDeath = useCallback(async (): Promise<string | null> => {
    for (let attempt = 0; attempt < 6; attempt++) {
      const id = session.current?.kernel?.id;
      const info = id ? await services.ide.kernelSandbox(id).catch(() => null) : null;
      if (info?.lastExit && info.deaths > deathsSeen.current) {
        deathsSeen.current = info.deaths;
        const message = deathMessage(info.lastExit);
        lastDeath.current = { message, at: Date.now() };
        setDeath(message);
        return message;
      }
      await new Promise((resolve) => window.setTimeout(resolve, 500));
    }
    const recent = lastDeath.current;
    return recent && Date.now() - recent.at < 15_000 ? recent.message : null;
  }, [services.ide]);

  const reportStatus = useCallback(
    (next: string) => {
      setStatus(next);
      onKernelStatus(path, next);
    },
    [onKernelStatus, path],
  );

  const save = useCallback(
    (force = false) =>
      queue(async () => {
        window.clearTimeout(autosave.current);
        const kernel = await kernelMetadata();
        const before = notebookRef.current;
        if (!before) {
          return;
        }
        // As Jupyter frontends do: the notebook records the kernel it was saved with.
        const current = kernel ? withKernelMetadata(before, kernel) : before;
        if (current !== before) {
          notebookRef.current = current;
          setNotebook(current);
        }
        let remote: string | null;
        try {
          remote = (await services.contents.get(path, { content: false })).last_modified;
        } catch {
          remote = null;
        }
        if (!force && decideSave(disk.current, remote) === 'conflict') {
          setConflict(true);
          return;
        }
        try {
          const saved = await services.contents.save(path, {
            type: 'notebook',
            format: 'json',
            content: toJSON(current),
          });
          disk.current.knownModified = saved.last_modified;
          if (notebookRef.current === current) {
            disk.current.dirty = false;
            onDirty(path, false);
          }
          setConflict(false);
        } catch (e) {
          notify('error', `Could not save ${path}: ${await errorMessage(e)}`);
        }
      }),
    [queue, kernelMetadata, notify, onDirty, path, services.contents],
  );
  const saveRef = useRef(save);
  saveRef.current = save;

  const edit = useCallback(
    (change: (nb: Notebook) => Notebook) => {
      // The ref is the source of truth between renders: a run right after a keystroke
      // must see that keystroke.
      const previous = notebookRef.current;
      if (!previous) {
        return;
      }
      const next = change(previous);
      notebookRef.current = next;
      setNotebook(next);
      disk.current.dirty = true;
      onDirty(path, true);
      window.clearTimeout(autosave.current);
      autosave.current = window.setTimeout(() => void saveRef.current(), AUTOSAVE_MS);
    },
    [onDirty, path],
  );

  const load = useCallback(async () => {
    const model = await services.contents.get(path, { type: 'notebook', content: true });
    const nb = fromJSON(model.content);
    disk.current = { knownModified: model.last_modified, dirty: false };
    notebookRef.current = nb;
    setNotebook(nb);
    setSelected(nb.cells[0]?.id ?? null);
    setRendered(
      new Set(nb.cells.filter((c) => c.cell_type === 'markdown' && c.source).map((c) => c.id)),
    );
    setConflict(false);
    onDirty(path, false);
    return nb;
  }, [onDirty, path, services.contents]);

  /** Start this notebook's session with kernel ``name``; say plainly why when it cannot. */
  const startSession = useCallback(
    async (name: string): Promise<Session.ISessionConnection | null> => {
      try {
        const connection = await services.sessions.startNew({
          path: pathRef.current,
          type: 'notebook',
          name: baseName(pathRef.current),
          kernel: { name },
        });
        setKernelRefused(null);
        return connection;
      } catch (e) {
        setKernelRefused(await errorMessage(e));
        reportStatus('no kernel');
        return null;
      }
    },
    [reportStatus, services.sessions],
  );

  const attachSession = useCallback(
    (connection: Session.ISessionConnection) => {
      session.current = connection;
      const watch = () => {
        const kernel = connection.kernel;
        setKernelName(kernel?.name ?? null);
        reportStatus(kernel?.status ?? 'dead');
        deathsSeen.current = 0;
        setDeath(null);
        if (kernel) {
          // Deaths before we came are not news.
          void services.ide
            .kernelSandbox(kernel.id)
            .then((info) => {
              deathsSeen.current = Math.max(deathsSeen.current, info?.deaths ?? 0);
            })
            .catch(() => undefined);
        }
        kernel?.statusChanged.connect((_, next) => {
          reportStatus(next);
          if (next === 'dead' || next === 'autorestarting') {
            void checkDeath();
          }
        });
      };
      connection.kernelChanged.connect(watch);
      watch();
    },
    [checkDeath, reportStatus, services],
  );

  const connectKernel = useCallback(
    async (nb: Notebook) => {
      await services.kernelspecs.ready;
      const models = services.kernelspecs.specs;
      setSpecs(models);
      void services.ide
        .sandbox()
        .then((info) => setDefaults(info?.limits ?? null))
        .catch(() => setDefaults(null));
      // Asked for by name even when not listed: the server runs a common one (python3,
      // xcpp17, ...) as its sandboxed equivalent, or refuses it with a message to show.
      const wanted = (nb.metadata.kernelspec as { name?: string } | undefined)?.name;
      const name = wanted || (models?.default ?? 'python3');
      const existing = await services.sessions.findByPath(path);
      const connection = existing
        ? services.sessions.connectTo({ model: existing })
        : await startSession(name);
      if (connection) {
        attachSession(connection);
      }
    },
    [attachSession, path, services, startSession],
  );

  remoteCells.current = (cells: Cell[]) => {
    // Another writer of the room (pair editing) changed the cells: take them.
    if (cells.length) {
      edit((nb) => ({ ...nb, cells }));
    }
  };

  useEffect(() => {
    let disposed = false;
    let leaveLive: (() => void) | null = null;
    load()
      .then((nb) => {
        if (disposed) {
          return undefined;
        }
        leaveLive = attachLiveNotebook(
          services,
          path,
          () => notebookRef.current,
          (cells) => remoteCells.current(cells),
          setLive,
        );
        return connectKernel(nb);
      })
      .catch(async (e) => setProblem(`Could not open ${path}: ${await errorMessage(e)}`));
    return () => {
      disposed = true;
      leaveLive?.();
      window.clearTimeout(autosave.current);
      session.current?.dispose();
      session.current = null;
      onKernelStatus(pathRef.current, null);
      onEditor?.(pathRef.current, null);
    };
    // One load and one session per open tab; a rename moves them (below), never reloads.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    if (pathRef.current === path) {
      return;
    }
    // Renamed or moved while open: keep the cells and unsaved edits, follow the new path.
    pathRef.current = path;
    const connection = session.current;
    if (connection) {
      void connection
        .setPath(path)
        .then(() => connection.setName(baseName(path)))
        .catch(async (e) =>
          notify('error', `Could not move the kernel session: ${await errorMessage(e)}`),
        );
    }
    onDirty(path, disk.current.dirty);
    void services.contents
      .get(path, { content: false })
      .then((model) => {
        disk.current.knownModified = model.last_modified;
      })
      .catch(() => undefined);
  }, [notify, onDirty, path, services.contents]);

  useEffect(() => {
    // The ref, not this render's notebook: keystrokes may have come since (the room has them).
    if (live && notebookRef.current) {
      live.push(notebookRef.current);
    }
  }, [live, notebook]);

  useEffect(() => {
    if (active) {
      onKernelStatus(path, status);
    }
  }, [active, onKernelStatus, path, status]);

  useEffect(() => {
    if (!active) {
      return;
    }
    // Coming back to the page: has someone else changed the notebook meanwhile?
    const check = async () => {
      if (document.visibilityState !== 'visible' || !notebookRef.current) {
        return;
      }
      let remote: string | null;
      try {
        remote = (await services.contents.get(path, { content: false })).last_modified;
      } catch {
        return;
      }
      const decision = decideOnFocus(disk.current, remote);
      if (decision === 'reload') {
        try {
          await load();
          notify('info', `${path} changed on disk and was reloaded`);
        } catch (e) {
          notify('error', `Could not reload ${path}: ${await errorMessage(e)}`);
        }
      } else if (decision === 'conflict') {
        setConflict(true);
      }
    };
    const listener = () => void check();
    window.addEventListener('focus', listener);
    document.addEventListener('visibilitychange', listener);
    return () => {
      window.removeEventListener('focus', listener);
      document.removeEventListener('visibilitychange', listener);
    };
  }, [active, load, notify, path, services.contents]);

  const runCell = useCallback(
    async (id: string): Promise<boolean> => {
      const cell = notebookRef.current?.cells.find((c) => c.id === id);
      if (!cell) {
        return false;
      }
      if (cell.cell_type !== 'code') {
        if (cell.cell_type === 'markdown' && cell.source.trim()) {
          setRendered((prev) => new Set(prev).add(id));
        }
        return true;
      }
      const kernel = session.current?.kernel;
      if (!kernel) {
        notify('error', 'No kernel is running for this notebook: pick one or restart.');
        return false;
      }
      edit((nb) => updateCell(nb, id, (c) => ({ ...c, outputs: [], execution_count: null })));
      setRunning((prev) => new Set(prev).add(id));
      let clearPending = false;
      const push = (output: Output) =>
        edit((nb) =>
          updateCell(nb, id, (c) => ({
            ...c,
            outputs: appendOutput(clearPending ? [] : c.outputs, output),
          })),
        );
      try {
        await debugBeforeRun(kernel.id, cellKey(path, id), cell.source);
        // The server records the run on the activity timeline; these name the cell there.
        const index = notebookRef.current?.cells.findIndex((c) => c.id === id) ?? -1;
        const future = kernel.requestExecute({ code: cell.source, stop_on_error: true }, true, {
          cellId: id,
          ...(index >= 0 ? { cellIndex: index } : {}),
        });
        future.onIOPub = (msg) => {
          const type = msg.header.msg_type;
          const content = msg.content as Record<string, unknown>;
          if (type === 'clear_output') {
            if (content.wait) {
              clearPending = true;
            } else {
              edit((nb) => updateCell(nb, id, (c) => ({ ...c, outputs: [] })));
            }
            return;
          }
          const output = outputFromMessage(type, content);
          if (output) {
            const error = output.output_type === 'error' ? errorText(output) : null;
            if (error) {
              onError?.(error);
            }
            push(output);
            clearPending = false;
          }
        };
        const reply = await future.done;
        const content = reply.content as { status: string; execution_count?: number | null };
        edit((nb) =>
          updateCell(nb, id, (c) => ({ ...c, execution_count: content.execution_count ?? null })),
        );
        return content.status === 'ok';
      } catch (e) {
        const died = await checkDeath();
        push({
          output_type: 'error',
          ename: 'KernelError',
          evalue: died ?? String(e),
          traceback: [
            died
              ? `${died}. The kernel was restarted: run the cells again.`
              : `The kernel stopped before answering: ${String(e)}`,
          ],
        });
        return false;
      } finally {
        setRunning((prev) => {
          const next = new Set(prev);
          next.delete(id);
          return next;
        });
      }
    },
    [checkDeath, edit, notify, onError, path],
  );

  const runAndAdvance = useCallback(
    (id: string) => {
      const cells = notebookRef.current?.cells ?? [];
      const index = cells.findIndex((c) => c.id === id);
      const next = cells[index + 1];
      if (next) {
        setSelected(next.id);
        focusNext.current = next.id;
      } else {
        const cell = newCell('code');
        edit((nb) => insertAfter(nb, id, cell));
        setSelected(cell.id);
        focusNext.current = cell.id;
      }
      void runCell(id);
    },
    [edit, runCell],
  );

  const runAll = async () => {
    for (const cell of notebookRef.current?.cells ?? []) {
      if (!(await runCell(cell.id))) {
        break;
      }
    }
  };

  const kernelAction = async (action: 'interrupt' | 'restart') => {
    const kernel = session.current?.kernel;
    if (!kernel) {
      notify('error', 'No kernel is running for this notebook.');
      return;
    }
    try {
      if (action === 'restart') {
        setDeath(null);
      }
      await (action === 'interrupt' ? kernel.interrupt() : kernel.restart());
    } catch (e) {
      notify('error', `Could not ${action} the kernel: ${await errorMessage(e)}`);
    }
  };

  const changeKernel = async (name: string) => {
    const spec = specs?.kernelspecs[name];
    edit((nb) => ({
      ...nb,
      metadata: {
        ...nb.metadata,
        kernelspec: { name, display_name: spec?.display_name ?? name, language: spec?.language },
      },
    }));
    try {
      if (session.current) {
        await session.current.changeKernel({ name });
      } else {
        const connection = await startSession(name);
        if (connection) {
          attachSession(connection);
        }
      }
    } catch (e) {
      notify('error', `Could not start ${name}: ${await errorMessage(e)}`);
    }
  };

  useLspNotebook(
    services,
    path,
    notebook ? kernelLanguage(notebook, specs) : '',
    notebook ? notebook.cells.filter((c) => c.cell_type === 'code').map((c) => c.id) : null,
  );

  const addCell = (cellType: CellType) => {
    const cell = newCell(cellType);
    edit((nb) => insertAfter(nb, selected, cell));
    setSelected(cell.id);
    focusNext.current = cell.id;
  };

  if (problem) {
    return <div className="banner banner-error">{problem}</div>;
  }
  if (!notebook) {
    return <div className="loading">Opening {path}…</div>;
  }
  const selectedCell = notebook.cells.find((c) => c.id === selected);
  const currentKernel =
    kernelName ??
    (notebook.metadata.kernelspec as { name?: string } | undefined)?.name ??
    specs?.default ??
    '';
  const language = kernelLanguage(notebook, specs);

  const renderCell = (cell: Cell) => {
    const isSelected = cell.id === selected;
    const isRunning = running.has(cell.id);
    const editingThis = cell.cell_type !== 'markdown' || !rendered.has(cell.id);
    const prompt =
      cell.cell_type === 'code' ? `[${isRunning ? '*' : (cell.execution_count ?? ' ')}]:` : '';
    const autoFocus = focusNext.current === cell.id;
    if (autoFocus) {
      focusNext.current = null;
    }
    return (
      <div
        key={cell.id}
        className={`cell cell-${cell.cell_type} ${isSelected ? 'cell-selected' : ''}`}
        data-testid="cell"
        data-cell-type={cell.cell_type}
        onClick={() => setSelected(cell.id)}
      >
        <div className="cell-prompt" data-testid="cell-prompt">
          {prompt}
        </div>
        <div className="cell-body">
          {editingThis ? (
            <CellEditor
              source={cell.source}
              language={
                cell.cell_type === 'code'
                  ? language
                  : cell.cell_type === 'markdown'
                    ? 'markdown'
                    : 'plaintext'
              }
              autoFocus={autoFocus}
              onChange={(source) =>
                edit((nb) => updateCell(nb, cell.id, (c) => ({ ...c, source })))
              }
              onRun={() => runAndAdvance(cell.id)}
              onSave={() => void saveRef.current()}
              onFocus={() => setSelected(cell.id)}
              path={path}
              client={cell.cell_type === 'code' ? services.ide : undefined}
              onEditorFocus={(handle) => onEditor?.(path, handle)}
              lsp={cell.cell_type === 'code' ? { services, cellId: cell.id } : undefined}
              debugKey={cell.cell_type === 'code' ? cellKey(path, cell.id) : undefined}
              live={live ? { linker: live, cellId: cell.id } : undefined}
            />
          ) : (
            <RenderedMarkdown
              className="markdown markdown-rendered"
              testId="markdown-rendered"
              title="Double-click to edit"
              source={cell.source}
              policy={policy}
              onDoubleClick={() => {
                focusNext.current = cell.id;
                setRendered((prev) => {
                  const next = new Set(prev);
                  next.delete(cell.id);
                  return next;
                });
              }}
            />
          )}
          {cell.cell_type === 'code' && (
            <OutputArea outputs={cell.outputs} onExplain={onExplain} policy={policy} />
          )}
        </div>
      </div>
    );
  };

  return (
    <div
      className="notebook"
      data-testid={`notebook-${path}`}
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
          e.preventDefault();
          void save();
        }
      }}
    >
      <div className="notebook-toolbar" role="toolbar" aria-label="Notebook">
        <button
          data-testid="nb-save"
          aria-label="Save"
          title="Save (Ctrl+S)"
          onClick={() => void save()}
        >
          Save
        </button>
        <button
          data-testid="nb-add-code"
          aria-label="Add code cell"
          title="Add code cell"
          onClick={() => addCell('code')}
        >
          + Code
        </button>
        <button
          data-testid="nb-add-markdown"
          aria-label="Add markdown cell"
          title="Add markdown cell"
          onClick={() => addCell('markdown')}
        >
          + Markdown
        </button>
        <button
          data-testid="nb-run"
          aria-label="Run cell"
          title="Run cell (Shift+Enter)"
          disabled={!selectedCell}
          onClick={() => selectedCell && runAndAdvance(selectedCell.id)}
        >
          ▶ Run
        </button>
        <button
          data-testid="nb-run-all"
          aria-label="Run all cells"
          title="Run all"
          onClick={() => void runAll()}
        >
          ▶▶ Run all
        </button>
        <button
          data-testid="nb-interrupt"
          aria-label="Interrupt kernel"
          title="Interrupt"
          onClick={() => void kernelAction('interrupt')}
        >
          ■
        </button>
        <button
          data-testid="nb-restart"
          aria-label="Restart kernel"
          title="Restart"
          onClick={() => void kernelAction('restart')}
        >
          ↻
        </button>
        <select
          aria-label="Cell type"
          data-testid="nb-cell-type"
          value={selectedCell?.cell_type ?? 'code'}
          onChange={(e) =>
            selectedCell &&
            edit((nb) => setCellType(nb, selectedCell.id, e.target.value as CellType))
          }
        >
          <option value="code">Code</option>
          <option value="markdown">Markdown</option>
          <option value="raw">Raw</option>
        </select>
        <button
          aria-label="Move cell up"
          title="Move up"
          onClick={() => selectedCell && edit((nb) => moveCell(nb, selectedCell.id, -1))}
        >
          ↑
        </button>
        <button
          aria-label="Move cell down"
          title="Move down"
          onClick={() => selectedCell && edit((nb) => moveCell(nb, selectedCell.id, 1))}
        >
          ↓
        </button>
        <button
          aria-label="Delete cell"
          title="Delete cell"
          onClick={() => selectedCell && edit((nb) => removeCell(nb, selectedCell.id))}
        >
          ✂
        </button>
        <span className="toolbar-spacer" />
        <select
          aria-label="Kernel"
          data-testid="kernel-picker"
          value={currentKernel}
          onChange={(e) => void changeKernel(e.target.value)}
        >
          {currentKernel && !specs?.kernelspecs[currentKernel] && (
            <option value={currentKernel} disabled>
              {currentKernel} — not available here
            </option>
          )}
          {Object.values(specs?.kernelspecs ?? {}).map((spec) => {
            if (!spec) {
              return null;
            }
            const limits = specLimits(spec.metadata, defaults);
            return (
              <option key={spec.name} value={spec.name}>
                {spec.display_name}
                {limits ? ` — ${formatLimits(limits)}` : ' — not sandboxed'}
              </option>
            );
          })}
        </select>
        <span
          className={`kernel-status kernel-${status}`}
          data-testid="kernel-status"
          title={`Kernel ${status}`}
        >
          ● {status}
        </span>
      </div>
      {conflict && (
        <DiskConflictBanner
          path={path}
          onReload={() => void load()}
          onOverwrite={() => void save(true)}
        />
      )}
      {kernelRefused && (
        <div className="banner banner-error" role="alert" data-testid="kernel-refused">
          {kernelRefused} Pick a kernel above to run this notebook.
        </div>
      )}
      {death && (
        <div className="banner banner-error" role="alert" data-testid="kernel-death">
          <strong>{death}.</strong>
          <span>
            {status === 'dead'
              ? 'Restart it to go on.'
              : 'It was restarted: its variables are gone, run the cells again.'}
          </span>
          <span className="toolbar-spacer" />
          {status === 'dead' && (
            <button onClick={() => void kernelAction('restart')}>Restart kernel</button>
          )}
          <button aria-label="Dismiss" onClick={() => setDeath(null)}>
            ×
          </button>
        </div>
      )}
      <div className="cells">{notebook.cells.map(renderCell)}</div>
    </div>
  );
}
