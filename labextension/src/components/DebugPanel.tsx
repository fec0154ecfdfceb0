/** The Debugger panel: start, continue, step; call stack, variables, watches and a console. */
import { KernelManager, type Kernel, type Session } from '@jupyterlab/services';
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage } from '../api/client';
import { KernelDebugger } from '../lib/debugKernel';
import type { DebugSession, Debugger, Scope, StackFrame, Variable } from '../lib/debugSession';
import { SocketDebugger } from '../lib/debugSocket';
import { debugStore } from '../lib/debugStore';
import { debugTarget, type DebugTarget } from '../lib/debugTargets';
import type { EditorHandle } from '../lib/editorHandle';
import type { Services } from '../services';
import { DebugScope } from './DebugVariables';
import type { Notify } from './Toasts';
import './DebugPanel.css';

interface Props {
  services: Services;
  /** The active tab's path. */
  path: string | null;
  getEditor: () => EditorHandle | null;
  notify: Notify;
}

interface Running {
  target: DebugTarget;
  debug: Debugger;
  /** The kernel of a Python file or notebook; null for a C/C++ program. */
  kernel: Kernel.IKernelConnection | null;
  /** A kernel started for this file (shut down at the end), or a notebook's (kept). */
  own: boolean;
  /** The session of a file's own kernel (it starts the kernel in the file's folder). */
  fileSession?: Session.ISessionConnection;
}

interface Paused {
  frames: StackFrame[];
  frame: StackFrame | null;
  scopes: { scope: Scope; variables: Variable[] | null }[];
}

const STEPS = [
  ['continue', 'Continue', '▶'],
  ['next', 'Step over', '↷'],
  ['stepIn', 'Step into', '↓'],
  ['stepOut', 'Step out', '↑'],
] as const;

export default function DebugPanel({ services, path, getEditor, notify }: Props) {
  const [run, setRun] = useState<Running | null>(null);
  const [, setTick] = useState(0);
  const [paused, setPaused] = useState<Paused | null>(null);
  const [watches, setWatches] = useState<string[]>([]);
  const [watchValues, setWatchValues] = useState<Record<string, string>>({});
  const [watchInput, setWatchInput] = useState('');
  const [consoleInput, setConsoleInput] = useState('');
  const [busy, setBusy] = useState(false);
  // The last session's console stays readable after it ends.
  const [last, setLast] = useState<DebugSession | null>(null);
  const kernels = useRef<KernelManager | null>(null);
  const runRef = useRef(run);
  runRef.current = run;
  const watchesRef = useRef(watches);
  watchesRef.current = watches;
  const target = path ? debugTarget(path) : null;

  const evaluateWatches = useCallback(async (r: Running, frame: StackFrame | null) => {
    const values: Record<string, string> = {};
    for (const expression of watchesRef.current) {
      try {
        values[expression] = await r.debug.session.evaluate(expression, frame?.id ?? null, 'watch');
      } catch (e) {
        values[expression] = `⚠ ${(e as Error).message}`;
      }
    }
    setWatchValues(values);
  }, []);

  const showFrame = useCallback(
    async (r: Running, frames: StackFrame[], frame: StackFrame | null) => {
      const scopes: Paused['scopes'] = [];
      if (frame) {
        for (const scope of await r.debug.session.scopes(frame.id)) {
          // The first scope (Locals) opens at once; others (Globals, Registers) on demand.
          const first = scopes.length === 0;
          scopes.push({
            scope,
            variables: first ? await r.debug.session.variables(scope.ref) : null,
          });
        }
        debugStore.setLocation(r.debug.locate(frame.path, frame.line));
      }
      setPaused({ frames, frame, scopes });
      await evaluateWatches(r, frame);
    },
    [evaluateWatches],
  );

  const finish = useCallback(async (r: Running) => {
    debugStore.setLocation(null);
    setPaused(null);
    await r.debug.stop();
    setLast(r.debug.session);
    if (r.fileSession) {
      await r.fileSession.shutdown().catch(() => undefined);
    } else if (r.kernel && r.own) {
      await r.kernel.shutdown().catch(() => undefined);
    }
    r.kernel?.dispose();
    setRun((current) => (current === r ? null : current));
  }, []);

  // Follow the session: on a stop read the stack, on a resume clear it.
  useEffect(() => {
    if (!run) {
      return;
    }
    const session = run.debug.session;
    let last = session.state;
    return session.subscribe(() => {
      setTick((t) => t + 1);
      if (session.state === last) {
        return;
      }
      last = session.state;
      if (session.state === 'ended' && run.target.kind !== 'file') {
        // The C/C++ program ended (or hit its time limit), or the notebook's kernel restarted.
        // (A file's run finishes itself when its cell's reply comes.)
        void finish(run);
      }
      if (session.state === 'stopped') {
        void session
          .stack()
          .then((frames) => showFrame(run, frames, frames[0] ?? null))
          .catch(async (e) => session.print(`⚠ ${await errorMessage(e)}\n`));
      } else {
        setPaused(null);
        debugStore.setLocation(null);
      }
    });
  }, [run, showFrame, finish]);

  useEffect(() => () => void (runRef.current && finish(runRef.current)), [finish]);

  const kernelManager = () => {
    kernels.current ??= new KernelManager({ serverSettings: services.settings });
    return kernels.current;
  };

  const start = async () => {
    if (!target || busy) {
      return;
    }
    if (target.kind === 'unsupported') {
      notify('error', target.reason);
      return;
    }
    setBusy(true);
    let kernel: Kernel.IKernelConnection | null = null;
    let own = false;
    let fileSession: Session.ISessionConnection | undefined;
    try {
      if (run) {
        await finish(run);
      }
      if (target.kind === 'program') {
        const editor = getEditor();
        if (!editor || editor.path !== target.path) {
          throw new Error(`Open ${target.path} to debug it.`);
        }
        const debug = await SocketDebugger.start(
          services.settings,
          target.language,
          target.path,
          editor.getValue(),
        );
        debug.session.print(`Compiled ${target.path} with -g; running it under lldb…\n`);
        setRun({ target, debug, kernel: null, own: false });
        return;
      }
      if (target.kind === 'notebook') {
        const session = await services.sessions.findByPath(target.path);
        if (!session?.kernel) {
          throw new Error('Start the notebook’s kernel first.');
        }
        kernel = kernelManager().connectTo({ model: session.kernel });
      } else {
        own = true;
        // A session of its own, so that the kernel starts in the file's folder (relative
        // paths in the program mean what they mean when it is run).
        fileSession = await services.sessions.startNew({
          path: target.path,
          type: 'debug',
          name: target.path.split('/').pop() ?? target.path,
          kernel: { name: target.kernel },
        });
        kernel = fileSession.kernel;
        if (!kernel) {
          throw new Error('The debug kernel did not start.');
        }
      }
      const debug = new KernelDebugger(kernel);
      await debug.start();
      const r = { target, debug, kernel, own, fileSession };
      setRun(r);
      if (target.kind === 'notebook') {
        debug.session.print(`Debugging ${target.path}: run a cell to stop at its breakpoints.\n`);
        debug.session.running();
      } else {
        await runFile(r);
      }
    } catch (e) {
      notify('error', `Could not start the debugger: ${await errorMessage(e)}`);
      if (fileSession) {
        await fileSession.shutdown().catch(() => undefined);
      } else if (kernel && own) {
        await kernel.shutdown().catch(() => undefined);
      }
    } finally {
      setBusy(false);
    }
  };

  /** Run the open file's text (as in the editor) as one cell of the debug kernel. */
  const runFile = async (r: Running & { debug: KernelDebugger }) => {
    if (!r.kernel) {
      return;
    }
    const kernel = r.kernel;
    const editor = getEditor();
    if (!editor || editor.path !== r.target.path) {
      throw new Error(`Open ${r.target.path} to debug it.`);
    }
    const code = editor.getValue();
    await r.debug.sync(r.target.path, code);
    const session = r.debug.session;
    session.print(`Running ${r.target.path} under the debugger…\n`);
    const future = kernel.requestExecute({ code, stop_on_error: true, allow_stdin: false });
    future.onIOPub = (msg) => {
      const content = msg.content as Record<string, unknown>;
      if (msg.header.msg_type === 'stream') {
        session.print(String(content.text ?? ''));
      } else if (msg.header.msg_type === 'error') {
        session.print(`${String(content.ename)}: ${String(content.evalue)}\n`);
      }
    };
    session.running();
    void future.done
      .then((reply) => {
        const status = (reply.content as { status: string }).status;
        session.print(
          status === 'ok' ? 'The program finished.\n' : `The program stopped (${status}).\n`,
        );
      })
      .catch(async (e) => session.print(`The kernel stopped: ${await errorMessage(e)}\n`))
      .finally(() => {
        session.end();
        void finish(r);
      });
  };

  const step = async (command: (typeof STEPS)[number][0]) => {
    try {
      await run?.debug.session.step(command);
    } catch (e) {
      notify('error', await errorMessage(e));
    }
  };

  const evaluateConsole = async () => {
    const expression = consoleInput.trim();
    if (!run || !expression) {
      return;
    }
    setConsoleInput('');
    const session = run.debug.session;
    session.print(`> ${expression}\n`);
    try {
      session.print(`${await session.evaluate(expression, paused?.frame?.id ?? null, 'repl')}\n`);
    } catch (e) {
      session.print(`⚠ ${await errorMessage(e)}\n`);
    }
  };

  const addWatch = () => {
    const expression = watchInput.trim();
    if (expression && !watches.includes(expression)) {
      const next = [...watches, expression];
      setWatches(next);
      watchesRef.current = next;
      if (run && paused) {
        void evaluateWatches(run, paused.frame);
      }
    }
    setWatchInput('');
  };

  const state = run?.debug.session.state ?? 'idle';
  const stopped = state === 'stopped';
  const session = run?.debug.session ?? last;
  return (
    <div className="debug-panel" data-testid="debug-panel">
      <div className="panel-header debug-toolbar">
        {!run ? (
          <button
            data-testid="debug-start"
            disabled={!target || busy}
            onClick={() => void start()}
            title={target?.kind === 'unsupported' ? target.reason : undefined}
          >
            {busy ? 'Starting…' : target?.kind === 'notebook' ? '◉ Debug notebook' : '◉ Debug'}
          </button>
        ) : (
          <>
            {STEPS.map(([command, label, icon]) => (
              <button
                key={command}
                data-testid={`debug-${command}`}
                disabled={!stopped}
                title={label}
                aria-label={label}
                onClick={() => void step(command)}
              >
                {icon} {label}
              </button>
            ))}
            <button
              data-testid="debug-pause"
              disabled={state !== 'running'}
              title="Pause"
              onClick={() =>
                void run.debug.session
                  .pause()
                  .catch(async (e) => notify('error', await errorMessage(e)))
              }
            >
              ❚❚ Pause
            </button>
            <button data-testid="debug-stop" onClick={() => void finish(run)}>
              ■ Stop
            </button>
          </>
        )}
      </div>
      <div className="muted debug-state" data-testid="debug-state" data-state={state}>
        {run
          ? `${run.target.path}: ${state}`
          : target
            ? `Debug ${target.path}`
            : 'Open a file to debug it.'}
        {!run && ' · click in the margin left of a line number to set a breakpoint'}
      </div>
      <section>
        <h4>Call stack</h4>
        <ol className="debug-frames" data-testid="debug-frames">
          {paused?.frames.map((frame) => (
            <li
              key={frame.id}
              data-testid="debug-frame"
              className={frame.id === paused.frame?.id ? 'debug-frame-selected' : ''}
              onClick={() => run && void showFrame(run, paused.frames, frame)}
            >
              {frame.name} <span className="muted">line {frame.line}</span>
            </li>
          ))}
        </ol>
      </section>
      <section>
        <h4>Variables</h4>
        {paused?.scopes.map(({ scope, variables }) => (
          <DebugScope
            key={`${paused.frame?.id}:${scope.ref}`}
            name={scope.name}
            variables={variables}
            scopeRef={scope.ref}
            load={(ref) => (run ? run.debug.session.variables(ref) : Promise.resolve([]))}
          />
        ))}
      </section>
      <section>
        <h4>Watch</h4>
        <ul className="debug-watches">
          {watches.map((w) => (
            <li key={w} data-testid="debug-watch">
              <span className="debug-variable-name">{w}</span>
              <span className="muted"> = </span>
              <span data-testid="debug-watch-value">{watchValues[w] ?? ''}</span>
              <button
                aria-label={`Remove the watch ${w}`}
                onClick={() => setWatches((prev) => prev.filter((x) => x !== w))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <input
          data-testid="debug-watch-input"
          placeholder="Add an expression to watch"
          value={watchInput}
          onChange={(e) => setWatchInput(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && addWatch()}
        />
      </section>
      <section>
        <h4>Debug console</h4>
        <pre className="debug-console" data-testid="debug-console">
          {session?.output.join('')}
        </pre>
        <input
          data-testid="debug-console-input"
          placeholder={stopped ? 'Evaluate in the selected frame' : 'Evaluate (when paused)'}
          value={consoleInput}
          disabled={!run}
          onChange={(e) => setConsoleInput(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && void evaluateConsole()}
        />
      </section>
    </div>
  );
}
