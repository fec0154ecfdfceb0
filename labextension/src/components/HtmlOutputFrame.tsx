/** One HTML output in a sandboxed frame (opaque origin): it can neither script nor restyle us. */
import { PageConfig } from '@jupyterlab/coreutils';
import { useEffect, useMemo, useRef, useState } from 'react';
import { allowedImageHosts } from '../lib/contentPolicy';
import { FRAME_SANDBOX, frameDocument, reportedHeight } from '../lib/outputFrame';
import { sanitizeOutputHtml, type ContentPolicy } from '../lib/sanitize';

/** Tallest a frame grows before it scrolls inside. */
const MAX_HEIGHT = 4000;
const INITIAL_HEIGHT = 24;

function staticUrl(file: string): string {
  const base = PageConfig.getOption('ideStaticUrl') || '/ide/static/';
  return new URL(file, new URL(base, window.location.href)).href;
}

interface Props {
  html: string;
  policy: ContentPolicy;
}

export function HtmlOutputFrame({ html, policy }: Props) {
  const frame = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(INITIAL_HEIGHT);
  const doc = useMemo(
    () =>
      frameDocument(sanitizeOutputHtml(html, policy), {
        scriptUrl: staticUrl('output-frame.js'),
        styleUrl: staticUrl('output-frame.css'),
        imageHosts: allowedImageHosts(),
      }),
    [html, policy],
  );

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      // Only our own frame's window; its origin is opaque ("null"), so identity is the check.
      if (!frame.current || event.source !== frame.current.contentWindow) {
        return;
      }
      const reported = reportedHeight(event.data);
      if (reported !== null) {
        setHeight(Math.min(MAX_HEIGHT, Math.max(INITIAL_HEIGHT, reported)));
      }
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);

  return (
    <iframe
      ref={frame}
      className="output-html-frame"
      data-testid="output-html-frame"
      title="HTML output"
      sandbox={FRAME_SANDBOX}
      srcDoc={doc}
      style={{ height }}
    />
  );
}
