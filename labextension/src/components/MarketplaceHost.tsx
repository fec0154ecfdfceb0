/** Runs the installed extensions (after the editor is up) and shows the marketplace panel. */
import { PageConfig } from '@jupyterlab/coreutils';
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { errorMessage } from '../api/client';
import { MarketplaceClient } from '../extensions/client';
import { Contributions } from '../extensions/contributions';
import { bindingsOf, matches } from '../extensions/keys';
import { codeOf } from '../extensions/loader';
import type { Install } from '../extensions/permissions';
import { ExtensionRuntime } from '../extensions/runtime';
import { getState, setPanelOpen, setStopped, subscribe } from '../extensions/store';
import type { EditorHandle } from '../lib/editorHandle';
import type { Services } from '../services';
import { MarketplacePanel } from './MarketplacePanel';
import { MarketplacePrompt, type PendingAsk } from './MarketplacePrompt';
import type { Notify } from './Toasts';

interface Props {
  services: Services;
  getEditor: () => EditorHandle | null;
  notify: Notify;
}

// The frames show nothing: extensions draw through the IDE's own status bar and panels.
const FRAMES_STYLE = { position: 'absolute', width: 0, height: 0, overflow: 'hidden' } as const;
const DRAWER_STYLE = {
  position: 'fixed',
  top: 0,
  right: 0,
  bottom: 28,
  width: 380,
  overflow: 'auto',
  zIndex: 50,
  background: 'var(--panel-bg, #1e1e1e)',
  borderLeft: '1px solid #444',
  padding: 8,
} as const;

function frameUrl(): string {
  const base = PageConfig.getOption('ideStaticUrl') || '/ide/static/';
  return new URL('extension-frame.html', new URL(base, window.location.href)).href;
}

function afterIdle(run: () => void): () => void {
  if (typeof window.requestIdleCallback === 'function') {
    const id = window.requestIdleCallback(run, { timeout: 2000 });
    return () => window.cancelIdleCallback(id);
  }
  const id = window.setTimeout(run, 300);
  return () => window.clearTimeout(id);
}

export default function MarketplaceHost({ services, getEditor, notify }: Props) {
  const market = useMemo(() => new MarketplaceClient(services.settings), [services.settings]);
  const contributions = useMemo(() => new Contributions(market), [market]);
  const state = useSyncExternalStore(subscribe, getState);
  const [installs, setInstalls] = useState<Install[] | null>(null);
  const [asks, setAsks] = useState<PendingAsk[]>([]);
  const runtime = useRef<ExtensionRuntime | null>(null);
  const frames = useRef<HTMLDivElement>(null);

  const refresh = useCallback(async () => {
    try {
      setInstalls(await market.installs());
    } catch (e) {
      setInstalls([]);
      notify('error', `Extensions: ${await errorMessage(e)}`);
    }
  }, [market, notify]);

  const replace = useCallback((install: Install) => {
    setInstalls((prev) => (prev ?? []).map((i) => (i.name === install.name ? install : i)));
    runtime.current?.updateInstall(install);
  }, []);

  // Start after the editor is interactive: first paint and the editor come first.
  useEffect(() => {
    const container = frames.current;
    if (!container) return;
    const cancel = afterIdle(() => {
      runtime.current = new ExtensionRuntime({
        frameUrl: frameUrl(),
        container,
        deps: {
          getEditor,
          readFile: async (path) => {
            const model = await services.contents.get(path, {
              type: 'file',
              format: 'text',
              content: true,
            });
            return String(model.content ?? '');
          },
          listFiles: async (path) => {
            const model = await services.contents.get(path, { content: true });
            const items: { name: string; type: string }[] = Array.isArray(model.content)
              ? model.content
              : [];
            return items.map((i) => ({ name: i.name, type: i.type }));
          },
          writeFile: async (path, content) => {
            await services.contents.save(path, { type: 'file', format: 'text', content });
          },
          submit: (run) => services.ide.submit(run),
          submissions: (tokens) => services.ide.submissions(tokens),
          complete: async (prompt) => {
            const [model] = await services.ide.models();
            if (!model) throw new Error('No AI model is available');
            return services.ide.complete({ model, messages: [{ role: 'user', content: prompt }] });
          },
        },
        ask: (install, permission) =>
          new Promise<boolean>((resolve) =>
            setAsks((prev) => [...prev, { install, permission, resolve }]),
          ),
        grant: async (install, permission) => {
          const saved = await market.change(install.name, {
            granted: [...new Set([...install.granted, permission])],
          });
          replace(saved);
          return saved;
        },
        saveSettings: async (install, settings) => {
          const saved = await market.change(install.name, { settings });
          replace(saved);
          return saved;
        },
        serverCheck: (name, method, params) => market.checkCall(name, method, params),
      });
      void refresh();
    });
    return () => {
      cancel();
      runtime.current?.dispose();
      runtime.current = null;
    };
  }, [getEditor, market, refresh, replace, services]);

  // Keep the running frames and Monaco's contributions in step with the installs.
  useEffect(() => {
    const run = runtime.current;
    if (!run || installs === null) return;
    let stale = false;
    void (async () => {
      const wanted = new Set<string>();
      for (const install of installs) {
        if (!install.enabled || typeof install.manifest.main !== 'string') continue;
        wanted.add(install.name);
        if (getState().stopped[install.name]) continue;
        try {
          const code = await codeOf(market, install);
          if (stale || code === null) continue;
          if (run.codeOf(install.name) !== code) {
            run.start(install, code);
          } else {
            run.updateInstall(install);
          }
        } catch (e) {
          setStopped(install.name, `not started: ${await errorMessage(e)}`);
        }
      }
      for (const name of run.names) {
        if (!wanted.has(name)) run.stop(name, null);
      }
      try {
        await contributions.apply(installs);
      } catch (e) {
        notify('error', `Extensions: ${await errorMessage(e)}`);
      }
    })();
    return () => {
      stale = true;
    };
  }, [installs, market, contributions, notify]);

  // Contributed keybindings run their extension's registered command.
  useEffect(() => {
    const bindings = (installs ?? [])
      .filter((i) => i.enabled)
      .flatMap((i) => bindingsOf(i.name, i.manifest));
    if (bindings.length === 0) return;
    const onKey = (event: KeyboardEvent) => {
      const registered = getState().commands;
      for (const b of bindings) {
        const known = registered.some((c) => c.extension === b.extension && c.id === b.command);
        if (known && matches(b.key, event)) {
          event.preventDefault();
          event.stopPropagation();
          runtime.current?.runCommand(b.extension, b.command);
          return;
        }
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [installs]);

  const answer = (ask: PendingAsk, yes: boolean) => {
    setAsks((prev) => prev.filter((a) => a !== ask));
    ask.resolve(yes);
  };

  const first = asks[0];
  return (
    <>
      <div ref={frames} className="extension-frames" aria-hidden="true" style={FRAMES_STYLE} />
      {first && <MarketplacePrompt ask={first} onAnswer={(yes) => answer(first, yes)} />}
      {state.panelOpen && (
        <aside className="marketplace-drawer" data-testid="marketplace-panel" style={DRAWER_STYLE}>
          <MarketplacePanel
            market={market}
            installs={installs ?? []}
            state={state}
            onInstalls={(next, touched) => {
              if (touched) setStopped(touched, null);
              setInstalls(next);
            }}
            onCommand={(extension, id) => runtime.current?.runCommand(extension, id)}
            onClose={() => setPanelOpen(false)}
            notify={notify}
          />
        </aside>
      )}
    </>
  );
}
