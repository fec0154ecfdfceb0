import { describe, expect, it, vi } from 'vitest';
import { decide, METHODS, PermissionGate, type Decision, type Install } from './permissions';

function install(over: Partial<Install> = {}): Install {
  return {
    name: 'examples.word-count',
    displayName: 'Word count',
    version: '1.0.0',
    latestVersion: '1.0.0',
    enabled: true,
    granted: ['editor.read', 'ui.statusbar'],
    settings: {},
    notice: null,
    lockedByCourse: null,
    permissions: ['editor.read', 'ui.statusbar', 'workspace.write'],
    manifest: {},
    integrity: 'sha256-x',
    ...over,
  };
}

describe('decide', () => {
  it('allows a granted, declared permission', () => {
    expect(decide(install(), 'editor.getText', {})).toEqual({
      decision: 'allow',
      permission: 'editor.read',
      reason: 'granted',
    });
  });

  it('denies unknown methods, inherited names and non-strings', () => {
    expect(decide(install(), 'document.cookie', {}).decision).toBe('deny');
    expect(decide(install(), 'toString', {}).decision).toBe('deny');
    expect(decide(install(), 42, {}).decision).toBe('deny');
  });

  it('denies everything when the extension is disabled, with the notice', () => {
    const d = decide(install({ enabled: false, notice: 'yanked' }), 'editor.getText', {});
    expect(d.decision).toBe('deny');
    expect(d.reason).toBe('yanked');
  });

  it('denies an undeclared permission even if granted', () => {
    const d = decide(install({ granted: ['editor.write'] }), 'editor.setText', { text: 'x' });
    expect(d).toMatchObject({ decision: 'deny', permission: 'editor.write' });
  });

  it('prompts for a declared sensitive permission not granted, denies other ungranted ones', () => {
    const ext = install({ granted: [] });
    expect(decide(ext, 'workspace.writeFile', { path: 'a.txt', content: '' }).decision).toBe(
      'prompt',
    );
    expect(decide(ext, 'statusbar.set', { id: 'w', text: '1' }).decision).toBe('deny');
  });

  it('checks parameters before any grant counts', () => {
    const ext = install({ granted: ['workspace.write', 'ui.statusbar'] });
    for (const path of ['/etc/passwd', '../x', 'a/../../b', 'a\\b']) {
      const d = decide(ext, 'workspace.writeFile', { path, content: 'x' });
      expect(d.decision, path).toBe('deny');
    }
    expect(decide(ext, 'statusbar.set', { id: 'w', text: 'x'.repeat(201) }).decision).toBe('deny');
    expect(decide(ext, 'statusbar.set', { id: 'w', text: 7 }).decision).toBe('deny');
    expect(decide(ext, 'statusbar.set', 'text').decision).toBe('deny');
  });

  it('knows the same methods as the server', () => {
    expect(Object.keys(METHODS).sort()).toContain('ai.chat');
    expect(METHODS['run.code']).toBe('run.code');
  });
});

describe('PermissionGate', () => {
  const write = ['workspace.writeFile', { path: 'out.txt', content: 'hi' }] as const;

  it('asks once at first use and keeps the grant', async () => {
    const ask = vi.fn(async () => true);
    const granted = install({ granted: [...install().granted, 'workspace.write'] });
    const onGranted = vi.fn(async () => granted);
    const gate = new PermissionGate(install(), ask, onGranted, null);
    await gate.check(...write);
    await gate.check(...write);
    expect(ask).toHaveBeenCalledTimes(1);
    expect(onGranted).toHaveBeenCalledWith('workspace.write');
    expect(gate.current.granted).toContain('workspace.write');
  });

  it('fails cleanly when the user refuses, and does not ask again this session', async () => {
    const ask = vi.fn(async () => false);
    const onGranted = vi.fn(async () => install());
    const gate = new PermissionGate(install(), ask, onGranted, null);
    await expect(gate.check(...write)).rejects.toThrow('the user refused workspace.write');
    await expect(gate.check(...write)).rejects.toThrow('the user refused');
    expect(ask).toHaveBeenCalledTimes(1);
    expect(onGranted).not.toHaveBeenCalled();
  });

  it('asks one question for concurrent calls', async () => {
    let answer: (yes: boolean) => void = () => undefined;
    const ask = vi.fn(() => new Promise<boolean>((resolve) => (answer = resolve)));
    const gate = new PermissionGate(install(), ask, async () => install(), null);
    const calls = [gate.check(...write), gate.check(...write)];
    answer(false);
    const results = await Promise.allSettled(calls);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(ask).toHaveBeenCalledTimes(1);
  });

  it('never asks for what is simply not granted', async () => {
    const ask = vi.fn(async () => true);
    const gate = new PermissionGate(install({ granted: [] }), ask, async () => install(), null);
    await expect(gate.check('editor.getText', {})).rejects.toThrow('editor.read is not granted');
    expect(ask).not.toHaveBeenCalled();
  });

  it('asks the server at every call: a grant revoked elsewhere fails the next one', async () => {
    const answers: Decision[] = [
      { decision: 'deny', permission: 'editor.read', reason: 'revoked' },
      { decision: 'allow', permission: 'editor.read', reason: 'granted' },
      { decision: 'allow', permission: 'editor.read', reason: 'granted' },
      { decision: 'deny', permission: 'editor.read', reason: 'editor.read is not granted' },
    ];
    const server = vi.fn(async () => answers.shift() as Decision);
    const gate = new PermissionGate(install(), vi.fn(), async () => install(), server);
    await expect(gate.check('editor.getText', {})).rejects.toThrow('the server refused: revoked');
    await gate.check('editor.getText', {});
    await gate.check('editor.getText', {});
    // Revoked in another tab: this gate's install still says granted, the server does not.
    await expect(gate.check('editor.getText', {})).rejects.toThrow('is not granted');
    expect(server).toHaveBeenCalledTimes(4);
  });

  it('does not ask the server when the local gate already refuses', async () => {
    const server = vi.fn();
    const gate = new PermissionGate(
      install({ granted: [] }),
      vi.fn(),
      async () => install(),
      server,
    );
    await expect(gate.check('statusbar.set', { id: 'a', text: 'b' })).rejects.toThrow();
    expect(server).not.toHaveBeenCalled();
  });
});
