/** An admin's review of the quarantine: uploads that failed the publish scan, release or reject. */
import { useCallback, useEffect, useState } from 'react';
import { errorMessage } from '../api/client';
import type { MarketplaceClient, QuarantineEntry } from '../extensions/client';
import type { Notify } from './Toasts';

interface Props {
  market: MarketplaceClient;
  notify: Notify;
  /** Called after a release: the store has a new version. */
  onReleased: () => void;
}

/** Shown only to those who may review (the server answers 403 to everyone else). */
export function MarketplaceQuarantine({ market, notify, onReleased }: Props) {
  const [entries, setEntries] = useState<QuarantineEntry[] | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setEntries(await market.quarantine());
    } catch (e) {
      notify('error', `Quarantine: ${await errorMessage(e)}`);
    }
  }, [market, notify]);

  useEffect(() => {
    void load();
  }, [load]);

  if (entries === null) {
    return null;
  }
  const decide = async (entry: QuarantineEntry, action: 'release' | 'reject') => {
    setBusy(true);
    try {
      await market.decideQuarantine(entry.id, action);
      const what = entry.name ? `${entry.name} ${entry.version ?? ''}`.trim() : `#${entry.id}`;
      notify('info', action === 'release' ? `Released ${what}` : `Rejected ${what}`);
      if (action === 'release') {
        onReleased();
      }
    } catch (e) {
      notify('error', await errorMessage(e));
    } finally {
      setBusy(false);
      await load();
    }
  };

  return (
    <section className="marketplace-quarantine" data-testid="marketplace-quarantine">
      <h3>Quarantine ({entries.length})</h3>
      {entries.length === 0 && <p>No uploads wait for review.</p>}
      <ul>
        {entries.map((entry) => (
          <li key={entry.id} data-testid={`quarantine-${entry.id}`}>
            <strong>{entry.name ?? `an upload to ${entry.namespace}`}</strong> {entry.version ?? ''}
            <br />
            <small>
              by {entry.submittedBy}: {entry.reason}
            </small>
            <br />
            <button
              data-testid={`quarantine-release-${entry.id}`}
              disabled={busy || !entry.kept}
              title={entry.kept ? 'Publish it after review' : 'Its bytes were not kept'}
              onClick={() => void decide(entry, 'release')}
            >
              Release
            </button>
            <button
              data-testid={`quarantine-reject-${entry.id}`}
              disabled={busy}
              onClick={() => void decide(entry, 'reject')}
            >
              Reject
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
