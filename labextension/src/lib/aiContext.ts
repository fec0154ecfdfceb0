/** What the assistant is told: the open file, the selection, the last error; and policy text. */
import type { AIPolicy, ChatMessage, ChatRequest } from '../api/client';
import { stripAnsi } from './ansi';

/** The part of the IDE the student is looking at when they ask. */
export interface EditorContext {
  path: string;
  language: string;
  content: string;
  selection: string;
  /** 1-based line of the cursor, to centre a long file's excerpt on. */
  cursorLine: number;
}

export const MAX_FILE_CHARS = 12_000;
export const MAX_ERROR_CHARS = 4_000;
export const MAX_HISTORY_MESSAGES = 12;
const FENCE = '```';

/** Keep at most ``max`` characters of a file, as whole lines around ``line``. */
export function excerpt(content: string, max: number, line = 1): string {
  if (content.length <= max) {
    return content;
  }
  const lines = content.split('\n');
  let start = Math.max(0, Math.min(lines.length - 1, line - 1));
  let end = start + 1;
  let size = (lines[start] ?? '').length;
  // Grow the window one line at a time on alternate sides while it fits.
  for (let grew = true; grew;) {
    grew = false;
    for (const side of [-1, 1]) {
      const next = side < 0 ? start - 1 : end;
      const text = lines[next];
      if (text !== undefined && size + text.length + 1 <= max) {
        size += text.length + 1;
        if (side < 0) {
          start = next;
        } else {
          end = next + 1;
        }
        grew = true;
      }
    }
  }
  const head = start > 0 ? `… (${start} lines above not shown)\n` : '';
  const tail = end < lines.length ? `\n… (${lines.length - end} lines below not shown)` : '';
  return head + lines.slice(start, end).join('\n').slice(0, max) + tail;
}

/** The system message: how to answer, and what the student has in front of them. */
export function systemPrompt(context: EditorContext | null, lastError: string | null): string {
  const parts = [
    'You are the coding assistant of a classroom IDE. Answer in Markdown. Put code in fenced ' +
      'blocks with a language. To change the open file, give either the whole new file or a ' +
      'unified diff in a ```diff block.',
  ];
  if (context) {
    parts.push(
      `The student has ${context.path} open (${context.language}), cursor on line ${context.cursorLine}:\n` +
        `${FENCE}${context.language}\n${excerpt(context.content, MAX_FILE_CHARS, context.cursorLine)}\n${FENCE}`,
    );
    if (context.selection.trim()) {
      parts.push(
        `They selected:\n${FENCE}${context.language}\n${excerpt(context.selection, MAX_FILE_CHARS / 2)}\n${FENCE}`,
      );
    }
  }
  if (lastError?.trim()) {
    parts.push(`The last error they got:\n${FENCE}\n${clipError(lastError)}\n${FENCE}`);
  }
  return parts.join('\n\n');
}

/** An error's text without colours, its end kept when too long (where the message is). */
export function clipError(text: string): string {
  const plain = stripAnsi(text).trim();
  return plain.length <= MAX_ERROR_CHARS ? plain : `…${plain.slice(-MAX_ERROR_CHARS)}`;
}

/** The messages of a chat request: context, the recent conversation, then the question. */
export function chatMessages(
  history: ChatMessage[],
  question: string,
  context: EditorContext | null,
  lastError: string | null,
): ChatMessage[] {
  return [
    { role: 'system', content: systemPrompt(context, lastError) },
    ...history.filter((m) => m.role !== 'system').slice(-MAX_HISTORY_MESSAGES),
    { role: 'user', content: question },
  ];
}

/** The question "Explain this error" asks. */
export function explainErrorQuestion(error: string): string {
  return `Explain this error and how I can fix it:\n\n${FENCE}\n${clipError(error)}\n${FENCE}`;
}

export const COMPLETION_MAX_TOKENS = 128;
const PREFIX_CHARS = 3_000;
const SUFFIX_CHARS = 1_000;

/** A request for the text to insert at the cursor, given what is before and after it. */
export function completionRequest(
  model: string,
  path: string,
  language: string,
  prefix: string,
  suffix: string,
): ChatRequest {
  return {
    model,
    max_tokens: COMPLETION_MAX_TOKENS,
    temperature: 0,
    messages: [
      {
        role: 'system',
        content:
          'You complete code. Answer with only the text to insert at <CURSOR>: no explanation, ' +
          'no code fences, nothing that is already before or after the cursor.',
      },
      {
        role: 'user',
        content: `${path} (${language}):\n${prefix.slice(-PREFIX_CHARS)}<CURSOR>${suffix.slice(0, SUFFIX_CHARS)}`,
      },
    ],
  };
}

/** Tidy a model's completion: no fences around it, and no repeat of the line typed so far. */
export function cleanCompletion(text: string, linePrefix: string): string {
  let out = text.replace(/\r\n/g, '\n');
  const fenced = /^\s*```[^\n]*\n([\s\S]*?)\n?```\s*$/.exec(out);
  if (fenced) {
    out = fenced[1] ?? '';
  }
  const typed = linePrefix.trimStart();
  if (typed && out.trimStart().startsWith(typed)) {
    out = out.trimStart().slice(typed.length);
  }
  return out.replace(/\s+$/, (end) => (end.includes('\n') ? '' : end));
}

function defaultTime(iso: string, now: Date): string {
  const when = new Date(iso);
  const time = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return when.toDateString() === now.toDateString()
    ? time
    : `${when.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

/** The sentence a student sees about the AI policy, or null when the assistant is fully on. */
export function policyText(
  policy: AIPolicy | null,
  now: Date = new Date(),
  formatTime: (iso: string, now: Date) => string = defaultTime,
): string | null {
  if (!policy || policy.mode === 'full') {
    return null;
  }
  const state = policy.mode === 'hint' ? 'AI is in hint-only mode' : 'AI is off';
  const until = policy.until ? ` until ${formatTime(policy.until, now)}` : '';
  const reason = policy.reason ? ` (${policy.reason})` : '';
  return `${state}${until}${reason}`;
}

/** What the policy banner says: the mode sentence, and whose rules combine when none is named. */
export interface PolicyNotice {
  text: string;
  /** "Strictest of your courses: A, B" when no course is chosen among several; else null. */
  strictest: string | null;
  /** Whether the assistant is limited (hint-only or off). */
  limited: boolean;
}

/** The banner for a policy, or null when there is nothing to say (fully on, one course). */
export function policyNotice(
  policy: AIPolicy | null,
  now: Date = new Date(),
  formatTime: (iso: string, now: Date) => string = defaultTime,
): PolicyNotice | null {
  if (!policy) {
    return null;
  }
  const strictest = policy.strictestOf.length
    ? `Strictest of your courses: ${policy.strictestOf.join(', ')}`
    : null;
  const limited = policyText(policy, now, formatTime);
  if (limited !== null) {
    return { text: limited, strictest, limited: true };
  }
  if (policy.course && policy.courses.length > 1) {
    return { text: `AI is in full mode for ${policy.course}`, strictest, limited: false };
  }
  return strictest ? { text: 'AI is in full mode', strictest, limited: false } : null;
}
