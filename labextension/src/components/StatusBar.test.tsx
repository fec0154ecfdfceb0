import { act } from 'react';
import { describe, expect, it } from 'vitest';
import type { Course, Health } from '../api/client';
import type { Services } from '../services';
import { StatusBar } from './StatusBar';
import { render } from '../testing/render';

function servicesAnswering(
  health: () => Promise<Health>,
  sandbox: () => Promise<unknown> = async () => null,
): Services {
  return { ide: { health, sandbox } } as unknown as Services;
}

const NOT_SANDBOXED: Health = {
  version: '0.1.0',
  subsystems: {
    database: { state: 'ok', detail: 'sqlite' },
    storage: { state: 'ok', detail: 'local dir' },
    sandbox: { state: 'off', detail: 'local kernels: code is not sandboxed' },
    ai: { state: 'off', detail: 'no provider configured' },
  },
};

function bar(services: Services, kernelStatus: string | null = null) {
  return (
    <StatusBar
      services={services}
      kernelStatus={kernelStatus}
      terminalOpen={false}
      onToggleTerminal={() => undefined}
    />
  );
}

describe('StatusBar', () => {
  it('says plainly when code is not sandboxed', async () => {
    const view = await render(
      bar(
        servicesAnswering(async () => NOT_SANDBOXED),
        'busy',
      ),
    );
    const sandbox = view.byTestId('status-sandbox');
    expect(sandbox?.textContent).toContain('⚠ Not sandboxed');
    expect(sandbox?.title).toBe('local kernels: code is not sandboxed');
    expect(view.byTestId('status-kernel')?.textContent).toContain('busy');
    expect(view.byTestId('status-ai')?.textContent).toContain('off');
    expect(view.byTestId('status-storage')?.textContent).toContain('ok');
    await view.unmount();
  });

  it('shows a sandbox that works, with its limits', async () => {
    const health: Health = {
      ...NOT_SANDBOXED,
      subsystems: { sandbox: { state: 'ok', detail: 'docker' } },
    };
    const view = await render(
      bar(
        servicesAnswering(
          async () => health,
          async () => ({
            mode: 'docker',
            engine: true,
            limits: { cpus: 1, memoryMb: 512, timeLimitS: 30, pids: 128, runtime: 'runc' },
          }),
        ),
      ),
    );
    const item = view.byTestId('status-sandbox');
    expect(item?.textContent).toBe('Sandboxed (Docker): 1 CPU · 512 MB · 30 s per run');
    expect(item?.title).toContain('at most 128 processes');
    expect(view.byTestId('status-error')).toBeNull();
    await view.unmount();
  });

  it('still says the code is sandboxed when the limits cannot be read', async () => {
    const health: Health = {
      ...NOT_SANDBOXED,
      subsystems: { sandbox: { state: 'ok', detail: 'docker' } },
    };
    const view = await render(
      bar(
        servicesAnswering(
          async () => health,
          async () => {
            throw new Error('500');
          },
        ),
      ),
    );
    expect(view.byTestId('status-sandbox')?.textContent).toBe('Sandboxed (Docker)');
    expect(view.byTestId('status-error')).toBeNull();
    await view.unmount();
  });

  it('says when the server cannot be reached', async () => {
    const view = await render(
      bar(
        servicesAnswering(async () => {
          throw new Error('connection refused');
        }),
      ),
    );
    expect(view.byTestId('status-error')?.textContent).toContain('connection refused');
    await view.unmount();
  });
});

describe('StatusBar course picker', () => {
  const course = (name: string, title = ''): Course => ({ name, title, myRole: 'student' });

  it('is offered with several courses, and says which one is chosen', async () => {
    const chosen: (string | null)[] = [];
    const view = await render(
      <StatusBar
        services={servicesAnswering(async () => NOT_SANDBOXED)}
        kernelStatus={null}
        terminalOpen={false}
        onToggleTerminal={() => undefined}
        courses={[course('cs-full', 'Full help'), course('cs-hint')]}
        course="cs-hint"
        onCourse={(c) => chosen.push(c)}
      />,
    );
    const select = view.byTestId('course-picker') as HTMLSelectElement;
    expect(select.value).toBe('cs-hint');
    expect([...select.options].map((o) => o.textContent)).toEqual([
      'None (strictest rules of all)',
      'cs-full · Full help',
      'cs-hint',
    ]);
    await act(async () => {
      select.value = 'cs-full';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => {
      select.value = '';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(chosen).toEqual(['cs-full', null]);
    await view.unmount();
  });

  it('is not offered with one course or none', async () => {
    for (const courses of [[course('cs-full')], []]) {
      const view = await render(
        <StatusBar
          services={servicesAnswering(async () => NOT_SANDBOXED)}
          kernelStatus={null}
          terminalOpen={false}
          onToggleTerminal={() => undefined}
          courses={courses}
          course={null}
        />,
      );
      expect(view.byTestId('course-picker')).toBeNull();
      await view.unmount();
    }
  });
});
