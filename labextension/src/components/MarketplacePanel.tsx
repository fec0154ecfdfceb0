/** The marketplace: browse and search the store, a package's permissions, one's installs. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from '../api/client';
import type { MarketplaceClient, PackageDetail, PackageSummary } from '../extensions/client';
import { PERMISSION_TEXT, SENSITIVE, type Install } from '../extensions/permissions';
import type { RuntimeState } from '../extensions/store';
import { MarketplaceInstalled } from './MarketplaceInstalled';
import { MarketplaceQuarantine } from './MarketplaceQuarantine';
import type { Notify } from './Toasts';

interface Props {
  market: MarketplaceClient;
  installs: Install[];
  state: RuntimeState;
  /** New installs after a change; ``touched`` names the extension changed (restart it). */
  onInstalls: (installs: Install[], touched: string | null) => void;
  onCommand: (extension: string, id: string) => void;
  onClose: () => void;
  notify: Notify;
}

export function MarketplacePanel({
  market,
  installs,
  state,
  onInstalls,
  onCommand,
  onClose,
  notify,
}: Props) {
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<PackageSummary[] | null>(null);
  const [detail, setDetail] = useState<PackageDetail | null>(null);
  const [busy, setBusy] = useState(false);

  const search = useCallback(
    async (q: string) => {
      try {
        setResults((await market.search(q)).results);
      } catch (e) {
        notify('error', `Marketplace: ${await errorMessage(e)}`);
      }
    },
    [market, notify],
  );

  useEffect(() => {
    void search('');
  }, [search]);

  const act = async (what: () => Promise<unknown>, touched: string | null) => {
    setBusy(true);
    try {
      await what();
      onInstalls(await market.installs(), touched);
    } catch (e) {
      notify('error', await errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const installed = new Set(installs.map((i) => i.name));
  const install = (pkg: PackageDetail) =>
    act(
      // Sensitive permissions are asked at first use; the rest are granted with the install.
      () =>
        market.install(
          pkg.name,
          pkg.permissions.filter((p) => !SENSITIVE.has(p)),
        ),
      pkg.name,
    );

  return (
    <div className="marketplace">
      <div className="marketplace-head">
        <h2>Extensions</h2>
        <span className="toolbar-spacer" />
        <button
          aria-label="Close the marketplace"
          data-testid="marketplace-close"
          onClick={onClose}
        >
          ×
        </button>
      </div>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setDetail(null);
          void search(query);
        }}
      >
        <input
          type="search"
          placeholder="Search extensions"
          value={query}
          data-testid="marketplace-search"
          onChange={(e) => setQuery(e.target.value)}
        />
      </form>
      {detail ? (
        <section className="marketplace-detail" data-testid="marketplace-detail">
          <button onClick={() => setDetail(null)}>← Back</button>
          <h3>{detail.displayName}</h3>
          <p>
            {detail.name} {detail.version} {detail.publisher ? `by ${detail.publisher}` : ''}
          </p>
          <p>{detail.description}</p>
          <h4>Permissions</h4>
          {detail.permissions.length === 0 ? (
            <p>None: it cannot read or change anything.</p>
          ) : (
            <ul data-testid="marketplace-permissions">
              {detail.permissions.map((p) => (
                <li key={p}>
                  {PERMISSION_TEXT[p] ?? p} <code>{p}</code>
                  {SENSITIVE.has(p) ? ' (asked at first use)' : ''}
                </li>
              ))}
            </ul>
          )}
          {detail.blocked && <p className="marketplace-warn">Blocked: {detail.blocked}</p>}
          {installed.has(detail.name) ? (
            <p>Installed.</p>
          ) : (
            <button
              data-testid="marketplace-install"
              disabled={busy || Boolean(detail.blocked)}
              onClick={() => void install(detail)}
            >
              Install
            </button>
          )}
        </section>
      ) : (
        <ul className="marketplace-results" data-testid="marketplace-results">
          {(results ?? []).map((r) => (
            <li key={r.name}>
              <button
                className="marketplace-result"
                data-testid={`marketplace-result-${r.name}`}
                onClick={() =>
                  void market
                    .detail(r.name)
                    .then(setDetail)
                    .catch(async (e) => notify('error', await errorMessage(e)))
                }
              >
                <strong>{r.displayName}</strong> {r.version}
                {installed.has(r.name) ? ' · installed' : ''}
                <br />
                <small>{r.description}</small>
              </button>
            </li>
          ))}
          {results !== null && results.length === 0 && <li>No extensions found.</li>}
        </ul>
      )}
      <MarketplaceInstalled
        market={market}
        installs={installs}
        state={state}
        busy={busy}
        act={act}
        onCommand={onCommand}
      />
      <MarketplaceQuarantine
        market={market}
        notify={notify}
        onReleased={() => void search(query)}
      />
    </div>
  );
}
