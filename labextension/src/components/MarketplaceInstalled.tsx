/** One's installed extensions: enable, update, permissions, settings, uninstall; their panels. */
import { useState } from 'react';
import type { MarketplaceClient } from '../extensions/client';
import { SENSITIVE, type Install } from '../extensions/permissions';
import type { RuntimeState } from '../extensions/store';

interface Props {
  market: MarketplaceClient;
  installs: Install[];
  state: RuntimeState;
  busy: boolean;
  act: (what: () => Promise<unknown>, touched: string | null) => Promise<void>;
  onCommand: (extension: string, id: string) => void;
}

function settingsSchema(install: Install): [string, Record<string, unknown>][] {
  const schema = install.manifest.settings;
  if (typeof schema !== 'object' || schema === null) return [];
  return Object.entries(schema as Record<string, unknown>).filter(
    (e): e is [string, Record<string, unknown>] => typeof e[1] === 'object' && e[1] !== null,
  );
}

function Settings({
  install,
  busy,
  save,
}: {
  install: Install;
  busy: boolean;
  save: (v: Record<string, unknown>) => void;
}) {
  const fields = settingsSchema(install);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      fields.map(([key, spec]) => [key, String(install.settings[key] ?? spec.default ?? '')]),
    ),
  );
  if (fields.length === 0) return null;
  return (
    <form
      className="marketplace-settings"
      onSubmit={(e) => {
        e.preventDefault();
        const out: Record<string, unknown> = {};
        for (const [key, spec] of fields) {
          const raw = values[key] ?? '';
          out[key] =
            spec.type === 'number' ? Number(raw) : spec.type === 'boolean' ? raw === 'true' : raw;
        }
        save(out);
      }}
    >
      {fields.map(([key, spec]) => (
        <label key={key}>
          {typeof spec.description === 'string' ? spec.description : key}
          <input
            value={values[key] ?? ''}
            data-testid={`setting-${install.name}-${key}`}
            onChange={(e) => setValues((prev) => ({ ...prev, [key]: e.target.value }))}
          />
        </label>
      ))}
      <button type="submit" disabled={busy}>
        Save settings
      </button>
    </form>
  );
}

export function MarketplaceInstalled({ market, installs, state, busy, act, onCommand }: Props) {
  if (installs.length === 0) {
    return <p className="marketplace-empty">No extensions installed.</p>;
  }
  return (
    <section className="marketplace-installed" data-testid="marketplace-installed">
      <h3>Installed</h3>
      {installs.map((install) => {
        const sensitive = install.granted.filter((p) => SENSITIVE.has(p));
        const panels = state.panels.filter((p) => p.extension === install.name);
        const commands = state.commands.filter((c) => c.extension === install.name);
        const stopped = state.stopped[install.name];
        const latest = install.latestVersion;
        return (
          <div
            key={install.name}
            className="marketplace-item"
            data-testid={`installed-${install.name}`}
          >
            <div>
              <strong>{install.displayName}</strong> {install.version}
              {install.lockedByCourse && ` · required by ${install.lockedByCourse}`}
            </div>
            {install.notice && <p className="marketplace-warn">{install.notice}</p>}
            {stopped && (
              <p className="marketplace-warn" data-testid={`stopped-${install.name}`}>
                {stopped}
              </p>
            )}
            <label>
              <input
                type="checkbox"
                checked={install.enabled}
                disabled={busy}
                data-testid={`enable-${install.name}`}
                onChange={(e) =>
                  void act(
                    () => market.change(install.name, { enabled: e.target.checked }),
                    install.name,
                  )
                }
              />{' '}
              Enabled
            </label>
            {latest && latest !== install.version && (
              <button
                disabled={busy}
                data-testid={`update-${install.name}`}
                onClick={() =>
                  void act(() => market.change(install.name, { version: latest }), install.name)
                }
              >
                Update to {install.latestVersion}
              </button>
            )}
            {stopped && install.enabled && (
              <button disabled={busy} onClick={() => void act(async () => undefined, install.name)}>
                Start again
              </button>
            )}
            {sensitive.map((p) => (
              <button
                key={p}
                disabled={busy}
                onClick={() =>
                  void act(
                    () =>
                      market.change(install.name, {
                        granted: install.granted.filter((g) => g !== p),
                      }),
                    null,
                  )
                }
              >
                Revoke {p}
              </button>
            ))}
            <Settings
              install={install}
              busy={busy}
              save={(settings) => void act(() => market.change(install.name, { settings }), null)}
            />
            {commands.map((c) => (
              <button
                key={c.id}
                data-testid={`command-${c.id}`}
                onClick={() => onCommand(c.extension, c.id)}
              >
                {c.title}
              </button>
            ))}
            {panels.map((p) => (
              <div key={p.id} className="marketplace-extension-panel" data-testid={`panel-${p.id}`}>
                <h4>{p.title}</h4>
                <pre>{p.text}</pre>
              </div>
            ))}
            {install.lockedByCourse ? (
              <p className="marketplace-locked" data-testid={`locked-${install.name}`}>
                Your course {install.lockedByCourse} requires this extension: it cannot be
                uninstalled.
              </p>
            ) : (
              <button
                disabled={busy}
                data-testid={`uninstall-${install.name}`}
                onClick={() => void act(() => market.uninstall(install.name), null)}
              >
                Uninstall
              </button>
            )}
          </div>
        );
      })}
    </section>
  );
}
