import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import type { IdeClient } from '../api/client';
import type { EditorHandle } from '../lib/editorHandle';
import type { Submission } from '../lib/judge';
import { render } from '../testing/render';
import RunPanel from './RunPanel';

function editor(path: string, text: string): EditorHandle {
  return {
    path,
    kind: 'file',
    getValue: () => text,
    context: () => ({ path, language: 'c', content: text, selection: '', cursorLine: 1 }),
    selectionRange: () => null,
    insertAtCursor: () => undefined,
    replaceAll: () => undefined,
  };
}

function result(id: number, description: string, extra: Partial<Submission> = {}): Submission {
  return {
    token: 'tok',
    status: { id, description },
    stdout: null,
    stderr: null,
    compileOutput: null,
    message: null,
    time: null,
    memory: null,
    exitCode: null,
    ...extra,
  };
}

async function settle() {
  await act(async () => {
    await new Promise((r) => setTimeout(r, 400));
  });
}

describe('RunPanel', () => {
  it('submits the editor text with stdin and shows the verdict, time and memory', async () => {
    const rounds = [
      [result(2, 'Processing')],
      [result(3, 'Accepted', { stdout: '5\n', time: '0.004', memory: 2048, exitCode: 0 })],
    ];
    const submit = vi.fn(async () => 'tok');
    const client = {
      submit,
      submissions: vi.fn(async () => rounds.shift() ?? []),
    } as unknown as IdeClient;
    const onError = vi.fn();
    const view = await render(
      <RunPanel
        client={client}
        trigger={{ id: 1, path: 'sum.c' }}
        getEditor={() => editor('sum.c', 'int main(){}')}
        onRunning={() => undefined}
        onError={onError}
        onClose={() => undefined}
        notify={() => undefined}
      />,
    );
    await settle();
    expect(submit).toHaveBeenCalledWith(
      { source: 'int main(){}', languageId: 50, stdin: '' },
      expect.any(AbortSignal),
    );
    expect(view.byTestId('run-verdict')?.textContent).toBe('Accepted');
    expect(view.byTestId('run-usage')?.textContent).toBe('0.004 s · 2.0 MB');
    expect(view.byTestId('run-stdout')?.textContent).toContain('5');
    expect(onError).not.toHaveBeenCalled();
    await view.unmount();
  });

  it('reports a compilation error as the last error, and a refused submission', async () => {
    const failing = {
      submit: vi.fn(async () => 'tok'),
      submissions: vi.fn(async () => [
        result(6, 'Compilation Error', { compileOutput: 'sum.c:1: error: expected ;' }),
      ]),
    } as unknown as IdeClient;
    const onError = vi.fn();
    const view = await render(
      <RunPanel
        client={failing}
        trigger={{ id: 1, path: 'sum.c' }}
        getEditor={() => editor('sum.c', 'x')}
        onRunning={() => undefined}
        onError={onError}
        onExplain={() => undefined}
        onClose={() => undefined}
        notify={() => undefined}
      />,
    );
    await settle();
    expect(view.byTestId('run-compile')?.textContent).toContain('expected ;');
    expect(onError).toHaveBeenCalledWith('Compilation Error\nsum.c:1: error: expected ;');
    expect(view.byTestId('run-explain')).not.toBeNull();
    await view.unmount();

    const refusing = {
      submit: vi.fn(async () => {
        throw new Error('queue is full');
      }),
    } as unknown as IdeClient;
    const again = await render(
      <RunPanel
        client={refusing}
        trigger={{ id: 2, path: 'sum.c' }}
        getEditor={() => editor('sum.c', 'x')}
        onRunning={() => undefined}
        onError={() => undefined}
        onClose={() => undefined}
        notify={() => undefined}
      />,
    );
    await settle();
    expect(again.byTestId('run-problem')?.textContent).toBe('queue is full');
    await again.unmount();
  });
});
