/** A paired student's "Partner's files": the partner's files, edited together live. */
import { useCallback, useEffect, useState } from 'react';
import { refusal } from '../api/client';
import { liveFilePaths, type LiveEntry } from '../lib/live';
import type { Services } from '../services';
import { LiveFile } from './LiveFile';
import { LiveNotebook } from './LiveNotebook';

const POLL_MS = 5000;

interface Props {
  services: Services;
  course: string;
  visible: boolean;
}

export function PartnerFiles({ services, course, visible }: Props) {
  const client = services.ide;
  const [partner, setPartner] = useState<string | null>(null);
  const [files, setFiles] = useState<LiveEntry[]>([]);
  const [openNow, setOpenNow] = useState<string[]>([]);
  const [path, setPath] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const found = (await client.livePairs(course)).partner;
      setPartner(found);
      if (found) {
        const listing = await client.liveFiles(course, found);
        setFiles(listing.files);
        setOpenNow(listing.open);
      } else {
        setPath(null);
      }
      setError(null);
    } catch (e) {
      setError((await refusal(e)).message);
    }
  }, [client, course]);

  useEffect(() => {
    if (!visible) {
      return;
    }
    void load();
    const poll = window.setInterval(() => void load(), POLL_MS);
    return () => window.clearInterval(poll);
  }, [load, visible]);

  if (!partner) {
    return (
      <p className="muted" data-testid="partner-none">
        {error ?? 'Your instructor has not paired you with a partner in this course.'}
      </p>
    );
  }
  return (
    <div data-testid="partner-files">
      <h4>Partner&apos;s files · {partner}</h4>
      <p className="muted">
        You and {partner} edit these files together: each sees the other&apos;s typing.
      </p>
      {error && <div className="banner banner-error">{error}</div>}
      <ul className="assignment-list">
        {liveFilePaths(files).map((p) => (
          <li key={p}>
            <button
              className="help-link"
              data-testid={`partner-open-${p}`}
              onClick={() => setPath(p)}
            >
              {p}
            </button>{' '}
            {openNow.includes(p) && <span className="muted">({partner} is editing it)</span>}
          </li>
        ))}
      </ul>
      {path && path.toLowerCase().endsWith('.ipynb') && (
        <LiveNotebook
          key={`${partner}/${path}`}
          settings={services.settings}
          target={{ course, student: partner, path, line: null }}
          writable
          onClose={() => setPath(null)}
        />
      )}
      {path && !path.toLowerCase().endsWith('.ipynb') && (
        <LiveFile
          key={`${partner}/${path}`}
          settings={services.settings}
          target={{ course, student: partner, path, line: null }}
          writable
          onClose={() => setPath(null)}
          testId="partner-file"
        />
      )}
    </div>
  );
}
