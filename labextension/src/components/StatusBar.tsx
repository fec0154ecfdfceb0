/** The state of the server's parts: kernel, sandbox, storage, database, AI. */
import { useEffect, useState } from 'react';
import type { Course, Health, Subsystem } from '../api/client';
import { formatLimits, type SandboxInfo } from '../lib/sandbox';
import type { Services } from '../services';
import { CoursePicker } from './CoursePicker';
import { LspStatus } from './LspStatus';
import { MarketplaceStatus } from './MarketplaceStatus';

const POLL_MS = 15_000;

interface Props {
  services: Services;
  kernelStatus: string | null;
  terminalOpen: boolean;
  onToggleTerminal: () => void;
  /** The user's courses and the chosen one; a picker appears when there are several. */
  courses?: Course[];
  course?: string | null;
  onCourse?: (course: string | null) => void;
}

function sandboxText(sandbox: Subsystem | undefined, info: SandboxInfo | null): string {
  if (!sandbox) {
    return 'Sandbox: unknown';
  }
  if (sandbox.state === 'ok') {
    const limits = formatLimits(info?.limits ?? null);
    return limits ? `Sandboxed (Docker): ${limits}` : 'Sandboxed (Docker)';
  }
  return '⚠ Not sandboxed: code runs in local kernels';
}

export function StatusBar({
  services,
  kernelStatus,
  terminalOpen,
  onToggleTerminal,
  courses = [],
  course = null,
  onCourse = () => undefined,
}: Props) {
  const [health, setHealth] = useState<Health | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<SandboxInfo | null>(null);

  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const next = await services.ide.health();
        if (!stopped) {
          setHealth(next);
          setError(null);
        }
        let sandbox: SandboxInfo | null = null;
        if (next.subsystems.sandbox?.state === 'ok') {
          // The limits are a help: without them the bar still says the code is sandboxed.
          sandbox = await services.ide.sandbox().catch(() => null);
        }
        if (!stopped) {
          setInfo(sandbox);
        }
      } catch (e) {
        if (!stopped) {
          setError(e instanceof Error ? e.message : String(e));
        }
      }
    };
    void poll();
    const timer = window.setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, [services]);

  const parts = health?.subsystems ?? {};
  const sandbox = parts.sandbox;
  return (
    <footer className="statusbar" data-testid="statusbar">
      <button
        className="status-item status-button"
        data-testid="toggle-terminal"
        aria-pressed={terminalOpen}
        onClick={onToggleTerminal}
      >
        ⌨ Terminal
      </button>
      <CoursePicker courses={courses} course={course} onChoose={onCourse} />
      <span className="status-item" data-testid="status-kernel">
        Kernel: {kernelStatus ?? 'none'}
      </span>
      <span
        className={`status-item ${sandbox?.state === 'ok' ? 'status-ok' : 'status-warn'}`}
        data-testid="status-sandbox"
        title={[
          sandbox?.detail,
          info?.limits.pids ? `at most ${info.limits.pids} processes` : '',
          info?.limits.runtime ? `runtime ${info.limits.runtime}` : '',
        ]
          .filter(Boolean)
          .join('; ')}
      >
        {sandboxText(sandbox, info)}
      </span>
      {(['storage', 'database', 'cache', 'ai'] as const).map((name) => (
        <span
          key={name}
          className={`status-item status-${parts[name]?.state ?? 'unknown'}`}
          data-testid={`status-${name}`}
          title={parts[name]?.detail ?? ''}
        >
          {name === 'ai' ? 'AI' : name[0]?.toUpperCase() + name.slice(1)}:{' '}
          {parts[name]?.state ?? '…'}
        </span>
      ))}
      {error && (
        <span className="status-item status-broken" data-testid="status-error">
          Server unreachable: {error}
        </span>
      )}
      <LspStatus />
      <MarketplaceStatus />
      <span className="status-item status-version">jupyter-ide {health?.version ?? ''}</span>
    </footer>
  );
}
