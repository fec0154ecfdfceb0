/** The student's notice while an instructor views their work live. */
import { useEffect, useState } from 'react';
import { viewerBoard, viewingNotice } from '../lib/live';
import { attachPresence } from '../lib/liveEditor';
import type { Services } from '../services';

interface Props {
  services: Services;
}

export function LiveNotice({ services }: Props) {
  const [viewers, setViewers] = useState<string[]>([]);

  useEffect(() => viewerBoard.subscribe(setViewers), []);
  useEffect(() => attachPresence(services), [services]);

  const notice = viewingNotice(viewers);
  if (!notice) {
    return null;
  }
  return (
    <div className="banner banner-info" role="status" data-testid="live-notice">
      {notice}
    </div>
  );
}
