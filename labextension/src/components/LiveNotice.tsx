/** The student's notice while an instructor views their work live (or a partner edits it). */
import { useEffect, useState } from 'react';
import { viewerBoard, viewingNotice } from '../lib/live';
import { attachPresence } from '../lib/liveEditor';
import type { Services } from '../services';

interface Props {
  services: Services;
}

export function LiveNotice({ services }: Props) {
  const [viewers, setViewers] = useState<string[]>([]);
  const [partner, setPartner] = useState<string | null>(null);
  const client = services.ide;
  const course = client.course;
  const watched = viewers.length > 0;

  useEffect(() => viewerBoard.subscribe(setViewers), []);
  useEffect(() => attachPresence(services), [services]);
  useEffect(() => {
    // Someone joined: is it the partner an instructor named (they edit with us)?
    if (!course || !watched) {
      return;
    }
    let gone = false;
    client
      .livePairs(course)
      .then((found) => !gone && setPartner(found.partner))
      .catch(() => undefined);
    return () => {
      gone = true;
    };
  }, [client, course, watched]);

  const notice = viewingNotice(viewers, partner);
  if (!notice) {
    return null;
  }
  return (
    <div className="banner banner-info" role="status" data-testid="live-notice">
      {notice}
    </div>
  );
}
