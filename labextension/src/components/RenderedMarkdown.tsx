/** Markdown shown in the IDE's page: sanitised once per source (lib/sanitize's allowlist). */
import { useMemo } from 'react';
import { safeHtml } from '../lib/markdown';
import type { ContentPolicy } from '../lib/sanitize';

interface Props {
  source: string;
  policy: ContentPolicy;
  className: string;
  testId?: string;
  title?: string;
  onDoubleClick?: () => void;
}

export function RenderedMarkdown({
  source,
  policy,
  className,
  testId,
  title,
  onDoubleClick,
}: Props) {
  const html = useMemo(() => safeHtml(source, policy), [source, policy]);
  return (
    <div
      className={className}
      data-testid={testId}
      title={title}
      onDoubleClick={onDoubleClick}
      dangerouslySetInnerHTML={{ __html: html }}
    />
  );
}
