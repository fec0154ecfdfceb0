/** The assistant: a streaming chat about the open file, its selection and the last error. */
import { lazy, Suspense, useCallback, useEffect, useRef, useState } from 'react';
import {
  errorCode,
  errorMessage,
  type AIUsage,
  type ChatMessage,
  type IdeClient,
} from '../api/client';
import type { AIState } from '../hooks/useAIState';
import { chatMessages, policyNotice } from '../lib/aiContext';
import type { EditorHandle } from '../lib/editorHandle';
import { proposeChange } from '../lib/patch';
import { ChatMessageView, type ChatEntry } from './ChatMessageView';
import type { Notify } from './Toasts';
import { UsageMeter } from './UsageMeter';

const DiffReview = lazy(() => import('./DiffReview'));

/** The server's 403 when a conversation holds an answer it did not give (hint-only mode). */
export const TURN_NOT_SERVED = 'assistant_turn_not_served';

export interface AIRequest {
  id: number;
  text: string;
}

interface Props {
  client: IdeClient;
  ai: AIState;
  /** The course chosen (the usage meter is refreshed when it changes). */
  course: string | null;
  /** Whether the course is known yet: usage is asked for only then. */
  courseReady: boolean;
  getEditor: () => EditorHandle | null;
  lastError: string | null;
  request: AIRequest | null;
  /** Whether ghost-text completions are wanted in the editor. */
  inline: boolean;
  onInline: (on: boolean) => void;
  notify: Notify;
  /** Open the student's own AI transcripts (their instructors can read them too). */
  onReadTranscripts?: () => void;
}

interface Review {
  path: string;
  original: string;
  modified: string;
  language: string;
}

export default function AIPanel({
  client,
  ai,
  course,
  courseReady,
  getEditor,
  lastError,
  request,
  inline,
  onInline,
  notify,
  onReadTranscripts,
}: Props) {
  const [entries, setEntries] = useState<ChatEntry[]>([]);
  const [input, setInput] = useState('');
  const [busy, setBusy] = useState(false);
  const [usage, setUsage] = useState<AIUsage | null>(null);
  const [warning, setWarning] = useState<string | null>(null);
  const [review, setReview] = useState<Review | null>(null);
  const abort = useRef<AbortController | null>(null);
  const nextId = useRef(1);
  const log = useRef<HTMLDivElement>(null);
  const handled = useRef<number | null>(null);

  const usageTicket = useRef(0);

  const refreshUsage = useCallback(async () => {
    // The client sends the course chosen now; an answer for an earlier choice is dropped.
    const ticket = ++usageTicket.current;
    // The meter is a help, not a reason to show an error.
    const next = await client.aiUsage().catch(() => null);
    if (ticket === usageTicket.current) {
      setUsage(next);
    }
  }, [client]);

  useEffect(() => {
    if (courseReady) {
      void refreshUsage(); // again whenever the course changes: quotas are counted per course
    }
  }, [refreshUsage, course, courseReady]);

  useEffect(() => {
    log.current?.scrollTo({ top: log.current.scrollHeight });
  }, [entries]);

  const update = (id: number, change: (entry: ChatEntry) => ChatEntry) =>
    setEntries((prev) => prev.map((e) => (e.id === id ? change(e) : e)));

  const send = useCallback(
    async (question: string) => {
      const text = question.trim();
      if (!text || busy || !ai.model) {
        return;
      }
      const history: ChatMessage[] = entries
        .filter((e) => !e.error && e.content)
        .map((e) => ({ role: e.role, content: e.content }));
      const userId = nextId.current++;
      const answerId = nextId.current++;
      setEntries((prev) => [
        ...prev,
        { id: userId, role: 'user', content: text, streaming: false, error: null },
        { id: answerId, role: 'assistant', content: '', streaming: true, error: null },
      ]);
      setInput('');
      setBusy(true);
      const controller = new AbortController();
      abort.current = controller;
      try {
        const editor = getEditor();
        const messages = chatMessages(history, text, editor?.context() ?? null, lastError);
        const stream = await client.chatStream({ model: ai.model, messages }, controller.signal);
        setWarning(stream.warning);
        for await (const event of stream.events) {
          if (event.type === 'delta') {
            update(answerId, (e) => ({ ...e, content: e.content + event.text }));
          } else if (event.type === 'error') {
            update(answerId, (e) => ({ ...e, error: event.message }));
          }
        }
      } catch (e) {
        const message = controller.signal.aborted ? 'Stopped.' : await errorMessage(e);
        // Hint-only mode accepts only the answers this server gave: offer a fresh start.
        const restart = (await errorCode(e)) === TURN_NOT_SERVED ? { restartWith: text } : {};
        update(answerId, (entry) => ({ ...entry, error: message, ...restart }));
      } finally {
        update(answerId, (e) => ({ ...e, streaming: false }));
        abort.current = null;
        setBusy(false);
        void refreshUsage();
      }
    },
    [ai.model, busy, client, entries, getEditor, lastError, refreshUsage],
  );

  useEffect(() => {
    if (request && handled.current !== request.id && !busy && ai.model) {
      handled.current = request.id;
      void send(request.text);
    }
  }, [request, busy, ai.model, send]);

  useEffect(() => () => abort.current?.abort(), []);

  const insert = (code: string) => {
    const editor = getEditor();
    if (!editor) {
      notify('error', 'Open a file in the editor to insert code into it.');
      return;
    }
    editor.insertAtCursor(code);
  };

  const apply = (code: string, language: string) => {
    const editor = getEditor();
    if (!editor) {
      notify('error', 'Open a file in the editor to apply a change to it.');
      return;
    }
    const original = editor.getValue();
    const proposal = proposeChange(original, code, language, editor.selectionRange());
    if (!proposal.ok) {
      notify('error', proposal.message);
      return;
    }
    setReview({
      path: editor.path,
      original,
      modified: proposal.text,
      language: editor.context().language,
    });
  };

  const accept = (text: string) => {
    const editor = getEditor();
    if (!review || !editor || editor.path !== review.path) {
      notify('error', 'The file changed tabs; open it again to apply the change.');
    } else if (editor.getValue() !== review.original) {
      notify('error', 'The file changed while you reviewed; apply the suggestion again.');
    } else {
      editor.replaceAll(text);
    }
    setReview(null);
  };

  const startOver = (question: string) => {
    setEntries([]);
    setWarning(null);
    setInput(question);
  };

  const notice = policyNotice(ai.policy);
  const disabled = ai.unavailable !== null || !ai.model;
  return (
    <div className="ai-panel" data-testid="ai-panel">
      <div className="panel-header">
        <select
          aria-label="AI model"
          data-testid="ai-model"
          value={ai.model ?? ''}
          disabled={!ai.models.length}
          onChange={(e) => ai.setModel(e.target.value)}
        >
          {ai.models.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
        <label
          className="inline-toggle"
          title={
            ai.policy?.mode === 'hint'
              ? 'Off in hint-only mode'
              : 'AI suggestions as ghost text while you type (Tab accepts)'
          }
        >
          <input
            type="checkbox"
            data-testid="ai-inline"
            checked={inline && ai.policy?.mode !== 'hint'}
            disabled={ai.policy?.mode === 'hint' || disabled}
            onChange={(e) => onInline(e.target.checked)}
          />
          Suggestions
        </label>
        <span className="toolbar-spacer" />
        <button
          title="Start a new conversation"
          data-testid="ai-clear"
          disabled={busy || !entries.length}
          onClick={() => setEntries([])}
        >
          New chat
        </button>
      </div>
      {notice && (
        <div
          className={`banner ai-policy ${notice.limited ? 'banner-warn' : 'banner-info'}`}
          data-testid="ai-policy"
          data-mode={ai.policy?.mode}
        >
          <span data-testid="ai-policy-mode">{notice.text}</span>
          {notice.strictest && (
            <span className="ai-policy-strictest" data-testid="ai-policy-strictest">
              {notice.strictest}. Choose a course in the status bar to use its own rules.
            </span>
          )}
        </div>
      )}
      {ai.policy?.course && (
        <div className="banner banner-info" data-testid="ai-transcript-notice">
          Your instructors in {ai.policy.course} can read your conversations with the assistant.
          {onReadTranscripts && (
            <>
              {' '}
              <button data-testid="ai-transcripts-open" onClick={onReadTranscripts}>
                Read yours
              </button>
            </>
          )}
        </div>
      )}
      {ai.unavailable && ai.policy?.mode !== 'off' && (
        <div className="banner" data-testid="ai-unavailable">
          {ai.unavailable}
        </div>
      )}
      <UsageMeter usage={usage} />
      {warning && !usage?.warning && (
        <div className="usage-warning" data-testid="ai-quota-warning">
          {warning}
        </div>
      )}
      <div className="chat-log" ref={log} data-testid="chat-log">
        {!entries.length && (
          <p className="muted chat-hint">
            Ask about the open file: the assistant sees it, your selection and your last error.
          </p>
        )}
        {entries.map((entry) => (
          <ChatMessageView
            key={entry.id}
            entry={entry}
            onInsert={insert}
            onApply={apply}
            onNewChat={startOver}
          />
        ))}
      </div>
      <form
        className="chat-form"
        onSubmit={(e) => {
          e.preventDefault();
          void send(input);
        }}
      >
        <textarea
          data-testid="chat-input"
          aria-label="Ask the assistant"
          placeholder={
            disabled ? '' : 'Ask the assistant (Enter to send, Shift+Enter for a new line)'
          }
          value={input}
          disabled={disabled}
          rows={3}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              void send(input);
            }
          }}
        />
        {busy ? (
          <button type="button" data-testid="chat-stop" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" data-testid="chat-send" disabled={disabled || !input.trim()}>
            Send
          </button>
        )}
      </form>
      {review && (
        <Suspense fallback={null}>
          <DiffReview
            title={`Apply the suggestion to ${review.path}?`}
            original={review.original}
            modified={review.modified}
            language={review.language}
            acceptLabel="Accept change"
            onAccept={accept}
            onClose={() => setReview(null)}
          />
        </Suspense>
      )}
    </div>
  );
}
