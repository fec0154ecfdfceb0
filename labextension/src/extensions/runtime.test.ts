import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EditorHandle } from '../lib/editorHandle';
import { perform, type ApiDeps } from './api';
import type { Install } from './permissions';
import { ExtensionRuntime, RUNTIME_SANDBOX } from './runtime';
import { getState, resetStore } from './store';

function install(over: Partial<Install> = {}): Install {
  return {
    name: 'examples.word-count',
    displayName: 'Word count',
    version: '1.0.0',
    latestVersion: '1.0.0',
    enabled: true,
    granted: ['editor.read', 'ui.statusbar', 'settings'],
    settings: {},
    notice: null,
    lockedByCourse: null,
    permissions: ['editor.read', 'ui.statusbar', 'settings', 'ai.use', 'ui.panel'],
    manifest: {
      settings: { file: { type: 'string', default: 'INSTRUCTIONS.md' } },
      contributes: { panels: [{ id: 'help', title: 'Help' }] },
    },
    integrity: 'sha256-x',
    ...over,
  };
}

function editorWith(text: () => string): EditorHandle {
  return {
    path: 'a.py',
    kind: 'file',
    getValue: text,
    context: () => ({
      path: 'a.py',
      language: 'python',
      content: text(),
      selection: '',
      cursorLine: 1,
    }),
    selectionRange: () => null,
    insertAtCursor: vi.fn(),
    replaceAll: vi.fn(),
  };
}

function deps(over: Partial<ApiDeps> = {}): ApiDeps {
  const never = () => Promise.reject(new Error('not in this test'));
  return {
    getEditor: () => null,
    readFile: never,
    listFiles: never,
    writeFile: never,
    submit: never,
    submissions: never,
    complete: never,
    saveSettings: never,
    ...over,
  };
}

describe('perform', () => {
  beforeEach(() => resetStore());

  it('reads the open document and sets a status item', async () => {
    const d = deps({ getEditor: () => editorWith(() => 'one two') });
    expect(await perform(install(), 'editor.getText', {}, d)).toBe('one two');
    await perform(install(), 'statusbar.set', { id: 'wc', text: '2 words' }, d);
    expect(getState().statusItems).toEqual([
      { extension: 'examples.word-count', id: 'wc', text: '2 words' },
    ]);
  });

  it('gives the settings with the manifest defaults under the user values', async () => {
    expect(await perform(install(), 'settings.get', {}, deps())).toEqual({
      file: 'INSTRUCTIONS.md',
    });
    const mine = install({ settings: { file: 'README.md' } });
    expect(await perform(mine, 'settings.get', {}, deps())).toEqual({ file: 'README.md' });
  });

  it('shows only declared panels', async () => {
    await perform(install(), 'panel.setText', { id: 'help', text: 'Read me' }, deps());
    expect(getState().panels[0]).toMatchObject({ title: 'Help', text: 'Read me' });
    await expect(
      perform(install(), 'panel.setText', { id: 'other', text: 'x' }, deps()),
    ).rejects.toThrow('declares no panel other');
  });

  it('refuses to write when no document is open', async () => {
    await expect(perform(install(), 'editor.setText', { text: 'x' }, deps())).rejects.toThrow(
      'No document is open',
    );
  });
});

describe('ExtensionRuntime', () => {
  let container: HTMLDivElement;
  let runtime: ExtensionRuntime;
  let text = 'hello world';
  const ask = vi.fn(async () => false);

  beforeEach(() => {
    vi.useFakeTimers();
    resetStore();
    container = document.createElement('div');
    document.body.appendChild(container);
    runtime = new ExtensionRuntime({
      frameUrl: 'http://localhost/ide/static/extension-frame.html',
      container,
      deps: deps({ getEditor: () => editorWith(() => text) }),
      ask,
      grant: async (i) => i,
      saveSettings: async (i) => i,
      serverCheck: null,
      heartbeatMs: 1000,
      hangMs: 3000,
      floodLimit: 50,
      callLimit: 20,
    });
  });

  afterEach(() => {
    runtime.dispose();
    container.remove();
    vi.useRealTimers();
  });

  function started() {
    runtime.start(install(), 'CODE');
    const frame = container.querySelector('iframe') as HTMLIFrameElement;
    const win = frame.contentWindow as Window;
    const sent: unknown[] = [];
    vi.spyOn(win, 'postMessage').mockImplementation((m: unknown) => void sent.push(m));
    const send = (data: unknown) =>
      window.dispatchEvent(new MessageEvent('message', { data, source: win }));
    send({ type: 'ready' });
    return { frame, sent, send };
  }

  const flush = async () => {
    for (let i = 0; i < 5; i += 1) await Promise.resolve();
  };

  it('runs each extension in a frame sandboxed to scripts only, and boots its code', () => {
    const { frame, sent } = started();
    expect(frame.getAttribute('sandbox')).toBe(RUNTIME_SANDBOX);
    expect(RUNTIME_SANDBOX).toBe('allow-scripts');
    expect(sent[0]).toEqual({ type: 'boot', code: 'CODE', name: 'examples.word-count' });
  });

  it('answers allowed calls and refuses the rest with a reason', async () => {
    const { sent, send } = started();
    send({ type: 'call', id: 1, method: 'editor.getText', params: {} });
    send({ type: 'call', id: 2, method: 'workspace.readFile', params: { path: 'a' } });
    send({ type: 'call', id: 3, method: 'ai.chat', params: { prompt: 'hi' } });
    await flush();
    expect(sent).toContainEqual({ type: 'reply', id: 1, result: 'hello world' });
    expect(sent).toContainEqual({
      type: 'reply',
      id: 2,
      error: 'the extension did not declare workspace.read',
    });
    expect(ask).toHaveBeenCalledTimes(1);
    expect(sent).toContainEqual({ type: 'reply', id: 3, error: 'the user refused ai.use' });
  });

  it('ignores messages from any other window', async () => {
    started();
    window.dispatchEvent(
      new MessageEvent('message', {
        data: { type: 'call', id: 1, method: 'statusbar.set', params: { id: 'x', text: 'y' } },
        source: window,
      }),
    );
    await flush();
    expect(getState().statusItems).toEqual([]);
  });

  it('sends editor changes to subscribers only', async () => {
    const { sent, send } = started();
    send({ type: 'subscribe', name: 'editor.changed' });
    send({ type: 'subscribe', name: 'workspace.changed' });
    vi.advanceTimersByTime(300);
    text = 'changed';
    vi.advanceTimersByTime(300);
    const events = sent.filter((m) => (m as { type: string }).type === 'event');
    expect(events.length).toBeGreaterThanOrEqual(1);
    expect(events.every((m) => (m as { name: string }).name === 'editor.changed')).toBe(true);
  });

  it('stops a flooding extension: frame removed, items gone, the reason kept', async () => {
    const { frame, send } = started();
    send({ type: 'call', id: 1, method: 'statusbar.set', params: { id: 'wc', text: '1' } });
    await flush();
    expect(getState().statusItems).toHaveLength(1);
    for (let i = 0; i < 60; i += 1) send({ type: 'noise' });
    expect(frame.isConnected).toBe(false);
    expect(getState().statusItems).toEqual([]);
    expect(getState().stopped['examples.word-count']).toContain('too many messages');
    expect(runtime.names).toEqual([]);
  });

  it('throttles calls beyond the per-second limit', async () => {
    const { sent, send } = started();
    for (let i = 0; i < 25; i += 1) send({ type: 'call', id: i, method: 'editor.getText' });
    await flush();
    const throttled = sent.filter((m) =>
      String((m as { error?: string }).error).startsWith('throttled'),
    );
    expect(throttled).toHaveLength(5);
  });

  it('removes an extension that stops answering the heartbeat', () => {
    const { frame, sent, send } = started();
    vi.advanceTimersByTime(1000);
    expect(sent).toContainEqual({ type: 'ping', n: 1 });
    send({ type: 'pong', n: 1 });
    vi.advanceTimersByTime(2500);
    expect(frame.isConnected).toBe(true);
    vi.advanceTimersByTime(2000);
    expect(frame.isConnected).toBe(false);
    expect(getState().stopped['examples.word-count']).toContain('stopped responding');
  });
});
