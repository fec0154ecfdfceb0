import { describe, expect, it } from 'vitest';
import { hasDebugger } from './debugKernel';
import {
  DapError,
  DebugSession,
  bodyOf,
  framesOf,
  scopesOf,
  variablesOf,
  type DapEvent,
  type DapTransport,
} from './debugSession';
import {
  DebugStore,
  breakpointClass,
  cellKey,
  cleanOptions,
  firstKind,
  describeBreakpoint,
  supportedBreakpoints,
  toggleLine,
} from './debugStore';
import { debugTarget } from './debugTargets';

describe('breakpoints', () => {
  it('toggles a line in and out, kept sorted', () => {
    expect(toggleLine([3, 9], 5)).toEqual([3, 5, 9]);
    expect(toggleLine([3, 5, 9], 5)).toEqual([3, 9]);
  });

  it('keys cells by notebook and cell id', () => {
    expect(cellKey('a/b.ipynb', 'c1')).toBe('a/b.ipynb#cell=c1');
    expect(cellKey('a/b.ipynb', 'c1')).not.toBe(cellKey('a/b.ipynb', 'c2'));
  });

  it('tells subscribers of changes only', () => {
    const store = new DebugStore();
    let calls = 0;
    const stop = store.subscribe(() => (calls += 1));
    store.toggle('x.py', 4);
    store.toggle('x.py', 2);
    expect(store.breakpoints('x.py')).toEqual([2, 4]);
    store.set('x.py', [2, 4]); // the same: no call
    store.setLocation({ key: 'x.py', line: 4 });
    store.setLocation({ key: 'x.py', line: 4 });
    expect(calls).toBe(3);
    store.toggle('x.py', 2);
    store.toggle('x.py', 4);
    expect(store.keys()).toEqual([]);
    stop();
    store.toggle('x.py', 1);
    expect(calls).toBe(5);
  });
});

describe('conditional breakpoints and logpoints', () => {
  it('keeps a condition on its line and sends it to the adapter', () => {
    const store = new DebugStore();
    let calls = 0;
    store.subscribe(() => (calls += 1));
    store.toggle('loop.py', 2);
    store.setOptions('loop.py', 4, { condition: ' i == 3 ' }); // adds the breakpoint
    expect(store.breakpoints('loop.py')).toEqual([2, 4]);
    expect(store.sourceBreakpoints('loop.py')).toEqual([
      { line: 2 },
      { line: 4, condition: 'i == 3' },
    ]);
    store.setOptions('loop.py', 4, { condition: 'i == 3' }); // the same: no call
    expect(calls).toBe(2);
    store.setOptions('loop.py', 2, { logMessage: 'i is {i}', hitCondition: '' });
    expect(store.options('loop.py', 2)).toEqual({ logMessage: 'i is {i}' });
    expect(calls).toBe(3);
  });

  it('clears options with the breakpoint, and blanks make a plain one', () => {
    const store = new DebugStore();
    store.setOptions('a.c', 7, { hitCondition: '>= 2' });
    store.setOptions('a.c', 7, { hitCondition: '  ' });
    expect(store.sourceBreakpoints('a.c')).toEqual([{ line: 7 }]);
    store.setOptions('a.c', 7, { condition: 'n > 1' });
    store.toggle('a.c', 7); // removed: its condition goes with it
    store.toggle('a.c', 7);
    expect(store.options('a.c', 7)).toEqual({});
    expect(store.sourceBreakpoints('a.c')).toEqual([{ line: 7 }]);
  });

  it('names and draws each kind', () => {
    expect(cleanOptions({ condition: '', logMessage: ' x ' })).toEqual({ logMessage: 'x' });
    expect(describeBreakpoint({})).toBe('Breakpoint');
    expect(describeBreakpoint({ condition: 'i == 3', hitCondition: '2' })).toBe(
      'Breakpoint when i == 3, hit count 2',
    );
    expect(breakpointClass({})).toBe('debug-breakpoint');
    expect(breakpointClass({ condition: 'x' })).toContain('debug-breakpoint-conditional');
    expect(breakpointClass({ condition: 'x', logMessage: 'y' })).toContain('debug-logpoint');
    expect(firstKind({})).toBe('condition');
    expect(firstKind({ logMessage: 'm' })).toBe('logMessage');
  });

  it('sends conditions in setBreakpoints', async () => {
    const sent: [string, Record<string, unknown>][] = [];
    const transport: DapTransport = {
      request: async (command, args) => {
        sent.push([command, args]);
        return { success: true, body: {} };
      },
      onEvent: () => () => undefined,
    };
    const session = new DebugSession(transport, 'python');
    session.capabilities = { supportsConditionalBreakpoints: true, supportsLogPoints: true };
    await session.setBreakpoints('/tmp/c.py', [
      { line: 3, condition: 'i == 3' },
      { line: 5, logMessage: 'at {i}' },
    ]);
    expect(sent[0]?.[1]).toMatchObject({
      source: { path: '/tmp/c.py' },
      breakpoints: [
        { line: 3, condition: 'i == 3' },
        { line: 5, logMessage: 'at {i}' },
      ],
      lines: [3, 5],
    });
  });

  it('leaves out what the adapter does not announce, saying so once', async () => {
    const sent: Record<string, unknown>[] = [];
    const transport: DapTransport = {
      request: async (_command, args) => {
        sent.push(args);
        return { success: true, body: {} };
      },
      onEvent: () => () => undefined,
    };
    const session = new DebugSession(transport, 'lldb');
    session.capabilities = {
      supportsConditionalBreakpoints: true,
      supportsHitConditionalBreakpoints: true,
    };
    const breakpoints = [
      { line: 5, condition: 'n == 3' },
      { line: 6, logMessage: 'n is {n}' },
    ];
    await session.setBreakpoints('/tmp/ide-debug/main.c', breakpoints);
    await session.setBreakpoints('/tmp/ide-debug/main.c', breakpoints);
    expect(sent[1]).toMatchObject({ breakpoints: [{ line: 5, condition: 'n == 3' }], lines: [5] });
    expect(session.output).toEqual([
      'This debugger has no logpoints: the breakpoint on line 6 is not set.\n',
    ]);
    expect(supportedBreakpoints([{ line: 1, hitCondition: '2' }], {}).sent).toEqual([]);
  });
});

describe('DAP bodies', () => {
  it('reads frames, scopes and variables', () => {
    expect(
      framesOf({ stackFrames: [{ id: 7, name: 'f', line: 3, source: { path: '/tmp/a.py' } }] }),
    ).toEqual([{ id: 7, name: 'f', line: 3, path: '/tmp/a.py' }]);
    expect(scopesOf({ scopes: [{ name: 'Locals', variablesReference: 4 }] })).toEqual([
      { name: 'Locals', ref: 4 },
    ]);
    expect(
      variablesOf({
        variables: [{ name: 'p', value: '{...}', type: 'point', variablesReference: 9 }],
      }),
    ).toEqual([{ name: 'p', value: '{...}', type: 'point', ref: 9 }]);
    expect(framesOf({})).toEqual([]);
  });

  it('throws the message of a failed response', () => {
    expect(() => bodyOf({ success: false, message: 'no such frame' })).toThrow(DapError);
    expect(() => bodyOf({ success: false, command: 'next' })).toThrow('refused next');
    expect(bodyOf({ success: true })).toEqual({});
  });
});

/** A transport whose events the test sends and whose requests it records. */
function scripted(): DapTransport & { emit: (e: DapEvent) => void; sent: string[] } {
  const listeners = new Set<(e: DapEvent) => void>();
  const sent: string[] = [];
  return {
    sent,
    emit: (e) => listeners.forEach((l) => l(e)),
    request: async (command) => {
      sent.push(command);
      return { success: true, body: {} };
    },
    onEvent: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

describe('a debug session', () => {
  it('follows stopped, continued, output and terminated events', async () => {
    const transport = scripted();
    const session = new DebugSession(transport, 'python');
    const states: string[] = [];
    session.subscribe(() => states.push(session.state));
    session.running();
    transport.emit({ event: 'stopped', body: { threadId: 5, reason: 'breakpoint' } });
    expect(session.threadId).toBe(5);
    await session.step('next');
    expect(transport.sent).toEqual(['next']);
    transport.emit({ event: 'output', body: { category: 'stdout', output: 'hi\n' } });
    transport.emit({ event: 'output', body: { category: 'telemetry', output: 'x' } });
    transport.emit({ event: 'terminated' });
    expect(states).toEqual(['running', 'stopped', 'running', 'running', 'ended']);
    expect(session.output).toEqual(['hi\n']);
  });

  it('pauses the first thread the adapter lists', async () => {
    const sent: [string, Record<string, unknown>][] = [];
    const transport: DapTransport = {
      request: async (command, args) => {
        sent.push([command, args]);
        return { success: true, body: command === 'threads' ? { threads: [{ id: 12 }] } : {} };
      },
      onEvent: () => () => undefined,
    };
    await new DebugSession(transport, 'python').pause();
    expect(sent).toEqual([
      ['threads', {}],
      ['pause', { threadId: 12 }],
    ]);
  });

  it('does not step without a stopped thread', async () => {
    const transport = scripted();
    const session = new DebugSession(transport, 'lldb');
    await session.step('continue');
    expect(transport.sent).toEqual([]);
  });
});

describe('what can be debugged', () => {
  it('picks the kernel, the notebook or the C/C++ adapter', () => {
    expect(debugTarget('src/a.py')).toEqual({
      kind: 'file',
      path: 'src/a.py',
      kernel: 'ide-python',
    });
    expect(debugTarget('n.ipynb').kind).toBe('notebook');
    expect(debugTarget('m.c')).toEqual({ kind: 'program', path: 'm.c', language: 'c' });
    expect(debugTarget('m.cc')).toEqual({ kind: 'program', path: 'm.cc', language: 'cpp' });
    expect(debugTarget('Main.java').kind).toBe('unsupported');
  });

  it('reads the debugger from kernel_info (ipykernel 6 and 7)', () => {
    expect(hasDebugger({ debugger: true })).toBe(true);
    expect(hasDebugger({ supported_features: ['debugger'] })).toBe(true);
    expect(hasDebugger({ supported_features: [] })).toBe(false);
    expect(hasDebugger(null)).toBe(false);
  });
});
