/** The IDE: explorer, tabs with editors and notebooks, side panels, terminal and status bar. */
import { PageConfig } from '@jupyterlab/coreutils';
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Services } from '../services';
import { useAIState } from '../hooks/useAIState';
import { browserStorage, useCourse } from '../hooks/useCourse';
import { usePresence } from '../lib/activityPresence';
import { errorMessage } from '../api/client';
import { explainErrorQuestion } from '../lib/aiContext';
import type { EditorHandle } from '../lib/editorHandle';
import { setInlineSettings } from '../lib/inlineSettings';
import { judgeLanguage } from '../lib/judge';
import { planClose, type ClosePlan } from '../lib/kernelUse';
import { isUnder, renamePath } from '../lib/languages';
import { setFileOpener } from '../lsp/opener';
import { useLspWarm } from '../lsp/warm';
import type { AIRequest } from './AIPanel';
import type { RunTrigger } from './RunPanel';
import { Explorer } from './Explorer';
import { LiveNotice } from './LiveNotice';
import { SidePanel, type SideView } from './SidePanel';
import { StatusBar } from './StatusBar';
import { TabBar, type OpenTab } from './TabBar';
import { Toasts, type Notify, type Toast } from './Toasts';
import { WorkbenchActions } from './WorkbenchActions';

// Monaco, the notebook view and xterm load on demand: the first paint does not wait for them.
const FileEditor = lazy(() => import('./FileEditor'));
const NotebookView = lazy(() => import('./NotebookView'));
const TerminalPanel = lazy(() => import('./TerminalPanel'));
const AIPanel = lazy(() => import('./AIPanel'));
const HistoryPanel = lazy(() => import('./HistoryPanel'));
const RunPanel = lazy(() => import('./RunPanel'));
const TestsPanel = lazy(() => import('./TestsPanel'));
const AssignmentsPanel = lazy(() => import('./AssignmentsPanel'));
const MarketplaceHost = lazy(() => import('./MarketplaceHost'));
const HelpQueuePanel = lazy(() => import('./HelpQueuePanel'));
const TimelinePanel = lazy(() => import('./TimelinePanel'));
const DebugPanel = lazy(() => import('./DebugPanel'));
const LiveView = lazy(() => import('./LiveView'));

const TOAST_MS = 6000;
const MIN_TERMINAL = 80;

/** ``keys`` with every path under ``from`` moved under ``to``. */
function renameKeys<T>(record: Record<string, T>, from: string, to: string): Record<string, T> {
  return Object.fromEntries(
    Object.entries(record).map(([path, value]) => [renamePath(path, from, to), value]),
  );
}

export function App({ services }: { services: Services }) {
  const [tabs, setTabs] = useState<OpenTab[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [dirty, setDirty] = useState<Set<string>>(new Set());
  const [kernels, setKernels] = useState<Record<string, string | null>>({});
  const [version, setVersion] = useState(0);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [terminalOpen, setTerminalOpen] = useState(false);
  const [terminalStarted, setTerminalStarted] = useState(false);
  const [terminalHeight, setTerminalHeight] = useState(260);
  const toastId = useRef(0);
  const [side, setSide] = useState<SideView | null>(null);
  const [sideMounted, setSideMounted] = useState<Set<SideView>>(new Set());
  const editors = useRef(new Map<string, EditorHandle>());
  const activeRef = useRef(active);
  activeRef.current = active;
  const coursePlace = useMemo(
    () => ({
      server: PageConfig.getBaseUrl(),
      workspace: PageConfig.getOption('workspace') || 'default',
      storage: browserStorage(),
    }),
    [],
  );
  const courses = useCourse(services.ide, coursePlace);
  const ai = useAIState(services.ide, {
    course: courses.course,
    ready: courses.ready,
    onRefused: courses.reload,
  });
  const [inlineOn, setInlineOn] = useState(true);
  const [lastError, setLastError] = useState<string | null>(null);
  const [aiRequest, setAIRequest] = useState<AIRequest | null>(null);
  // Bumped to open a document afresh, e.g. after its history was restored.
  const [generation, setGeneration] = useState<Record<string, number>>({});
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const tabId = useRef(0);
  const [runOpen, setRunOpen] = useState(false);
  const [runTrigger, setRunTrigger] = useState<RunTrigger | null>(null);
  const [running, setRunning] = useState(false);

  useEffect(() => {
    // Hint-only mode is about not handing out solutions: no ghost-text code then.
    setInlineSettings({
      enabled: inlineOn && ai.unavailable === null && ai.policy?.mode !== 'hint',
      model: ai.model,
    });
  }, [inlineOn, ai.unavailable, ai.policy?.mode, ai.model]);

  const openSide = useCallback((view: SideView | null) => {
    setSide(view);
    if (view) {
      setSideMounted((prev) => (prev.has(view) ? prev : new Set(prev).add(view)));
    }
  }, []);

  const getEditor = useCallback(
    () => (activeRef.current ? (editors.current.get(activeRef.current) ?? null) : null),
    [],
  );

  const onEditor = useCallback((path: string, handle: EditorHandle | null) => {
    if (handle) {
      editors.current.set(path, handle);
    } else if (editors.current.get(path)?.path === path) {
      editors.current.delete(path);
    }
  }, []);

  const explain = useCallback(
    (error: string) => {
      setLastError(error);
      openSide('ai');
      setAIRequest((prev) => ({ id: (prev?.id ?? 0) + 1, text: explainErrorQuestion(error) }));
    },
    [openSide],
  );

  const notify: Notify = useCallback((kind, text) => {
    toastId.current += 1;
    const id = toastId.current;
    setToasts((prev) => [...prev, { id, kind, text }]);
    window.setTimeout(() => setToasts((prev) => prev.filter((t) => t.id !== id)), TOAST_MS);
  }, []);

  const open = useCallback((path: string, type: string) => {
    setTabs((prev) => {
      if (prev.some((t) => t.path === path)) {
        return prev;
      }
      tabId.current += 1;
      const kind = type === 'notebook' || path.endsWith('.ipynb') ? 'notebook' : 'file';
      return [...prev, { id: tabId.current, path, kind }];
    });
    setActive(path);
  }, []);

  useEffect(() => {
    // Go to definition / references into a file that is not open yet.
    setFileOpener((path) => open(path, 'file'));
    return () => setFileOpener(null);
  }, [open]);

  /** After a notebook's tab closed: shut its kernel down if the plan says so. */
  const finishClose = useCallback(
    async (path: string, plan: ClosePlan | null) => {
      try {
        if (plan?.decision === 'shutdown' && plan.sessionId) {
          await services.sessions.shutdown(plan.sessionId);
        } else if (plan?.decision === 'keep') {
          notify('info', `The kernel of ${path} keeps running: another view still uses it.`);
        }
      } catch (e) {
        notify('error', `Could not shut down the kernel of ${path}: ${await errorMessage(e)}`);
      }
    },
    [notify, services.sessions],
  );

  /** Before a notebook's tab closes (its own view still attached): may the kernel stop? */
  const closePlans = useCallback(
    async (paths: string[]): Promise<Map<string, ClosePlan | null>> => {
      const plans = new Map<string, ClosePlan | null>();
      for (const path of paths) {
        plans.set(
          path,
          await planClose(path, services.sessions, services.settings, (q) =>
            window.confirm(q),
          ).catch(() => null),
        );
      }
      return plans;
    },
    [services.sessions, services.settings],
  );

  const close = useCallback(
    async (path: string) => {
      if (dirty.has(path) && !window.confirm(`${path} has unsaved changes. Close it anyway?`)) {
        return;
      }
      const notebook = tabs.some((t) => t.path === path && t.kind === 'notebook');
      const plans = await closePlans(notebook ? [path] : []);
      setTabs((prev) => {
        const next = prev.filter((t) => t.path !== path);
        setActive((current) =>
          current === path ? (next[next.length - 1]?.path ?? null) : current,
        );
        return next;
      });
      setDirty((prev) => {
        const next = new Set(prev);
        next.delete(path);
        return next;
      });
      for (const [closed, plan] of plans) {
        void finishClose(closed, plan);
      }
    },
    [closePlans, dirty, finishClose, tabs],
  );

  const onDirty = useCallback((path: string, isDirty: boolean) => {
    setDirty((prev) => {
      if (prev.has(path) === isDirty) {
        return prev;
      }
      const next = new Set(prev);
      if (isDirty) {
        next.add(path);
      } else {
        next.delete(path);
      }
      return next;
    });
  }, []);

  const onKernelStatus = useCallback((path: string, status: string | null) => {
    setKernels((prev) => (prev[path] === status ? prev : { ...prev, [path]: status }));
  }, []);

  const onRenamed = useCallback((from: string, to: string) => {
    // Open documents follow their files (same tab, same editor, unsaved edits kept).
    setTabs((prev) => prev.map((t) => ({ ...t, path: renamePath(t.path, from, to) })));
    setActive((current) => (current === null ? null : renamePath(current, from, to)));
    setDirty((prev) => new Set([...prev].map((p) => renamePath(p, from, to))));
    setKernels((prev) => renameKeys(prev, from, to));
    setGeneration((prev) => renameKeys(prev, from, to));
    for (const path of [...editors.current.keys()]) {
      if (isUnder(path, from)) {
        editors.current.delete(path);
      }
    }
  }, []);

  const onDeleted = useCallback(
    async (path: string) => {
      const notebooks = tabs
        .filter((t) => t.kind === 'notebook' && isUnder(t.path, path))
        .map((t) => t.path);
      const plans = await closePlans(notebooks);
      setTabs((prev) => prev.filter((t) => !isUnder(t.path, path)));
      setActive((current) => (current !== null && isUnder(current, path) ? null : current));
      for (const [closed, plan] of plans) {
        void finishClose(closed, plan);
      }
    },
    [closePlans, finishClose, tabs],
  );

  const toggleTerminal = () => {
    setTerminalStarted(true);
    setTerminalOpen((o) => !o);
  };

  const startResize = (event: React.PointerEvent) => {
    const startY = event.clientY;
    const startHeight = terminalHeight;
    const move = (e: PointerEvent) =>
      setTerminalHeight(
        Math.max(
          MIN_TERMINAL,
          Math.min(window.innerHeight - 160, startHeight + startY - e.clientY),
        ),
      );
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };

  const onRestored = useCallback((path: string) => {
    setDirty((prev) => {
      const next = new Set(prev);
      next.delete(path);
      return next;
    });
    setGeneration((prev) => ({ ...prev, [path]: (prev[path] ?? 0) + 1 }));
  }, []);

  const isDirty = useCallback((path: string) => dirtyRef.current.has(path), []);

  // Assignments live in a course: the chosen one, else the only one the user is in.
  const assignmentCourse =
    courses.course ?? (courses.courses.length === 1 ? (courses.courses[0]?.name ?? null) : null);

  usePresence(services.ide, assignmentCourse, active);
  useLspWarm(services);

  const onAssignmentFiles = useCallback(
    (paths: string[]) => {
      setVersion((v) => v + 1);
      for (const path of paths) {
        if (!dirtyRef.current.has(path)) {
          onRestored(path); // an open, unchanged tab shows the new content
        }
      }
    },
    [onRestored],
  );

  const activeTab = tabs.find((t) => t.path === active);
  const runnable = activeTab?.kind === 'file' && active !== null ? judgeLanguage(active) : null;

  const run = useCallback(() => {
    const path = activeRef.current;
    if (!path || !judgeLanguage(path) || !editors.current.has(path)) {
      return;
    }
    setRunOpen(true);
    setRunTrigger((prev) => ({ id: (prev?.id ?? 0) + 1, path }));
  }, []);

  useEffect(() => {
    // F5 runs the open file (as in IDLE and Thonny) instead of reloading the page.
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'F5' && !e.ctrlKey && !e.metaKey && !e.altKey && !e.shiftKey && runnable) {
        e.preventDefault();
        e.stopPropagation();
        run();
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [run, runnable]);

  const renderSide = (view: SideView) => {
    switch (view) {
      case 'ai':
        return (
          <Suspense fallback={<div className="loading">Loading the assistant…</div>}>
            <AIPanel
              client={services.ide}
              ai={ai}
              course={courses.course}
              courseReady={courses.ready}
              getEditor={getEditor}
              lastError={lastError}
              request={aiRequest}
              inline={inlineOn}
              onInline={setInlineOn}
              notify={notify}
              onReadTranscripts={() => openSide('help')}
            />
          </Suspense>
        );
      case 'history':
        return (
          <Suspense fallback={<div className="loading">Loading the history…</div>}>
            <HistoryPanel
              services={services}
              path={active}
              visible={side === 'history'}
              getEditor={getEditor}
              isDirty={isDirty}
              dirtyNow={active !== null && dirty.has(active)}
              onRestored={onRestored}
              notify={notify}
            />
          </Suspense>
        );
      case 'tests':
        return (
          <Suspense fallback={<div className="loading">Loading the tests…</div>}>
            <TestsPanel
              services={services}
              path={activeTab?.kind === 'file' ? active : null}
              visible={side === 'tests'}
              getEditor={getEditor}
              notify={notify}
            />
          </Suspense>
        );
      case 'debug':
        return (
          <Suspense fallback={<div className="loading">Loading the debugger…</div>}>
            <DebugPanel services={services} path={active} getEditor={getEditor} notify={notify} />
          </Suspense>
        );
      case 'assignments':
        return (
          <Suspense fallback={<div className="loading">Loading the assignments…</div>}>
            <AssignmentsPanel
              client={services.ide}
              course={assignmentCourse}
              courseCount={courses.courses.length}
              role={courses.courses.find((c) => c.name === assignmentCourse)?.myRole ?? null}
              visible={side === 'assignments'}
              onFilesChanged={onAssignmentFiles}
              notify={notify}
            />
          </Suspense>
        );
      case 'help':
        return (
          <Suspense fallback={<div className="loading">Loading help…</div>}>
            <HelpQueuePanel
              client={services.ide}
              course={assignmentCourse}
              courseCount={courses.courses.length}
              role={courses.courses.find((c) => c.name === assignmentCourse)?.myRole ?? null}
              getEditor={getEditor}
              visible={side === 'help'}
              notify={notify}
            />
          </Suspense>
        );
      case 'activity':
        return (
          <Suspense fallback={<div className="loading">Loading activity…</div>}>
            <TimelinePanel
              client={services.ide}
              course={assignmentCourse}
              role={courses.courses.find((c) => c.name === assignmentCourse)?.myRole ?? null}
              visible={side === 'activity'}
            />
          </Suspense>
        );
      case 'live':
        return (
          <Suspense fallback={<div className="loading">Loading the live view…</div>}>
            <LiveView
              services={services}
              course={assignmentCourse}
              role={courses.courses.find((c) => c.name === assignmentCourse)?.myRole ?? null}
              visible={side === 'live'}
            />
          </Suspense>
        );
    }
  };

  const kernelStatus = activeTab?.kind === 'notebook' ? (kernels[activeTab.path] ?? null) : null;

  return (
    <div className={`app ${side ? 'app-with-side' : ''}`}>
      <Explorer
        services={services}
        version={version}
        onOpen={open}
        onRenamed={onRenamed}
        onDeleted={(path) => void onDeleted(path)}
        onChanged={() => setVersion((v) => v + 1)}
        notify={notify}
      />
      <main className="workbench">
        <LiveNotice services={services} />
        <div className="tabrow">
          <TabBar
            tabs={tabs}
            active={active}
            dirty={dirty}
            onSelect={setActive}
            onClose={(path) => void close(path)}
          />
          <WorkbenchActions
            side={side}
            onSide={openSide}
            runLabel={runnable?.name ?? null}
            running={running}
            onRun={run}
          />
        </div>
        <div className="documents">
          {tabs.length === 0 && (
            <div className="welcome" data-testid="welcome">
              <h1>jupyter-ide</h1>
              <p>
                Open a file from the explorer, or create a file or notebook with the buttons above
                it.
              </p>
            </div>
          )}
          <Suspense fallback={<div className="loading">Loading the editor…</div>}>
            {tabs.map((tab) => (
              <div
                key={`${tab.id}#${generation[tab.path] ?? 0}`}
                className="document"
                hidden={tab.path !== active}
              >
                {tab.kind === 'notebook' ? (
                  <NotebookView
                    path={tab.path}
                    services={services}
                    active={tab.path === active}
                    onDirty={onDirty}
                    onKernelStatus={onKernelStatus}
                    onError={setLastError}
                    onEditor={onEditor}
                    onExplain={ai.unavailable === null ? explain : undefined}
                    notify={notify}
                  />
                ) : (
                  <FileEditor
                    path={tab.path}
                    services={services}
                    active={tab.path === active}
                    onDirty={onDirty}
                    onEditor={onEditor}
                    notify={notify}
                  />
                )}
              </div>
            ))}
          </Suspense>
        </div>
        {runTrigger && (
          <section className="run-panel" aria-label="Run" hidden={!runOpen}>
            <Suspense fallback={<div className="loading">Loading…</div>}>
              <RunPanel
                client={services.ide}
                trigger={runTrigger}
                getEditor={getEditor}
                onRunning={setRunning}
                onError={setLastError}
                onExplain={ai.unavailable === null ? explain : undefined}
                onClose={() => setRunOpen(false)}
                notify={notify}
              />
            </Suspense>
          </section>
        )}
        {terminalStarted && (
          <section
            className="terminal-panel"
            hidden={!terminalOpen}
            style={{ height: terminalHeight }}
            aria-label="Terminal"
          >
            <div
              className="terminal-resize"
              data-testid="terminal-resize-handle"
              onPointerDown={startResize}
            />
            <Suspense fallback={<div className="loading">Starting the terminal…</div>}>
              <TerminalPanel services={services} notify={notify} />
            </Suspense>
          </section>
        )}
      </main>
      <SidePanel view={side} mounted={sideMounted} onView={openSide} render={renderSide} />
      <StatusBar
        services={services}
        kernelStatus={kernelStatus}
        terminalOpen={terminalOpen}
        onToggleTerminal={toggleTerminal}
        courses={courses.courses}
        course={courses.course}
        onCourse={courses.choose}
      />
      <Suspense fallback={null}>
        <MarketplaceHost services={services} getEditor={getEditor} notify={notify} />
      </Suspense>
      <Toasts
        toasts={toasts}
        onDismiss={(id) => setToasts((prev) => prev.filter((t) => t.id !== id))}
      />
    </div>
  );
}
