/** What the assistant is asked: chat context, completion requests, and what the policy allows. */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
}

/** The file the user has open in JupyterLab when they ask. */
export interface OpenFile {
  path: string;
  text: string;
}

export const MAX_FILE_CHARS = 12_000;
export const MAX_HISTORY = 12;
export const COMPLETION_MAX_TOKENS = 128;
const PREFIX_CHARS = 3_000;
const SUFFIX_CHARS = 1_000;
const FENCE = '```';

/** The messages of a chat request: the open file, the recent conversation, the question. */
export function chatMessages(
  history: ChatMessage[],
  question: string,
  file: OpenFile | null,
): ChatMessage[] {
  const system = [
    'You are the coding assistant of a classroom JupyterLab. Answer in Markdown; put code in ' +
      'fenced blocks with a language.',
  ];
  if (file) {
    const text =
      file.text.length > MAX_FILE_CHARS ? `${file.text.slice(0, MAX_FILE_CHARS)}\n…` : file.text;
    system.push(`The student has ${file.path} open:\n${FENCE}\n${text}\n${FENCE}`);
  }
  return [
    { role: 'system', content: system.join('\n\n') },
    ...history.filter((m) => m.role !== 'system').slice(-MAX_HISTORY),
    { role: 'user', content: question },
  ];
}

/** A request for the text to insert at the cursor, given what is before and after it. */
export function completionRequest(
  model: string,
  path: string,
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
        content: `${path}:\n${prefix.slice(-PREFIX_CHARS)}<CURSOR>${suffix.slice(0, SUFFIX_CHARS)}`,
      },
    ],
  };
}

/** Tidy a model's completion: no fences around it, no repeat of the line typed so far. */
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
  return out.replace(/\s+$/, '');
}

export type AIMode = 'off' | 'hint' | 'full';

/** Ghost-text code only where the policy allows full answers (hint-only courses get none). */
export function completionsAllowed(mode: AIMode | null): boolean {
  return mode === 'full';
}

/** The chat is open unless the policy turned the assistant off. */
export function chatAllowed(mode: AIMode | null): boolean {
  return mode === 'full' || mode === 'hint';
}
