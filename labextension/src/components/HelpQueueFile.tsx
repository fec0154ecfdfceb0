/** A student's file, read-only, opened at the line their request links to. */
import { useEffect, useRef } from 'react';
import type { HelpFile } from '../lib/teaching';

interface Props {
  file: HelpFile;
  onClose: () => void;
}

export function HelpQueueFile({ file, onClose }: Props) {
  const target = useRef<HTMLDivElement>(null);

  useEffect(() => {
    // jsdom has no scrolling: only a real browser scrolls the line into view.
    target.current?.scrollIntoView?.({ block: 'center' });
  }, [file]);

  const lines = file.content.split('\n');
  return (
    <div className="help-file" data-testid="help-file" aria-label={`${file.student}: ${file.path}`}>
      <div className="panel-header">
        <span className="panel-title">
          {file.student}: {file.path}
          {file.line ? `:${file.line}` : ''} (read-only)
        </span>
        <span className="toolbar-spacer" />
        <button aria-label="Close the file" data-testid="help-file-close" onClick={onClose}>
          ×
        </button>
      </div>
      <pre style={{ maxHeight: '50vh', overflow: 'auto', margin: 0 }}>
        {lines.map((text, i) => {
          const current = i + 1 === file.line;
          return (
            <div
              key={i}
              ref={current ? target : undefined}
              data-testid={current ? 'help-file-line' : undefined}
              data-line={i + 1}
              style={current ? { background: 'var(--selection, rgba(255, 200, 0, 0.25))' } : {}}
            >
              <span className="muted" style={{ userSelect: 'none' }}>
                {String(i + 1).padStart(4, ' ')}{' '}
              </span>
              {text}
            </div>
          );
        })}
      </pre>
    </div>
  );
}
