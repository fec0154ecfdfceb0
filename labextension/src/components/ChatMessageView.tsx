/** One message of the assistant chat: the student's question, or a markdown answer. */
import { useMemo } from 'react';
import { pagePolicy } from '../lib/contentPolicy';
import { splitMarkdown } from '../lib/markdown';
import { CodeBlock } from './CodeBlock';

export interface ChatEntry {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  streaming: boolean;
  error: string | null;
  /** The question to ask again in a new conversation, when the server asks for one. */
  restartWith?: string;
}

interface Props {
  entry: ChatEntry;
  onInsert: (code: string) => void;
  onApply: (code: string, language: string) => void;
  /** Start a new conversation with ``question`` ready to send. */
  onNewChat?: (question: string) => void;
}

export function ChatMessageView({ entry, onInsert, onApply, onNewChat }: Props) {
  const segments = useMemo(
    () => (entry.role === 'assistant' ? splitMarkdown(entry.content, pagePolicy()) : []),
    [entry.role, entry.content],
  );
  return (
    <div
      className={`chat-message chat-${entry.role}`}
      data-testid={`chat-${entry.role}`}
      data-streaming={entry.streaming ? 'true' : 'false'}
    >
      {entry.role === 'user' ? (
        <div className="chat-question">{entry.content}</div>
      ) : (
        segments.map((segment, i) =>
          segment.kind === 'code' ? (
            <CodeBlock
              key={i}
              code={segment.code}
              language={segment.language}
              complete={!entry.streaming}
              onInsert={onInsert}
              onApply={onApply}
            />
          ) : (
            <div
              key={i}
              className="markdown"
              // Sanitised by splitMarkdown (lib/sanitize: an allowlist, no remote images).
              dangerouslySetInnerHTML={{ __html: segment.html }}
            />
          ),
        )
      )}
      {entry.streaming && !entry.content && <div className="chat-thinking">…</div>}
      {entry.error && (
        <div className="chat-error" data-testid="chat-error" role="alert">
          {entry.error}
          {entry.restartWith !== undefined && onNewChat && (
            <button
              className="chat-restart"
              data-testid="chat-new-conversation"
              onClick={() => onNewChat(entry.restartWith ?? '')}
            >
              Start a new conversation
            </button>
          )}
        </div>
      )}
    </div>
  );
}
