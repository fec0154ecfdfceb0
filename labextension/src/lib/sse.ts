/** Server-sent events, as OpenAI-style streams send them: `data:` lines, ending in `[DONE]`. */

/** Turn a stream of text pieces into the `data` of each complete event, in order. */
export class SSEParser {
  private buffer = '';
  private data: string[] = [];

  /** Feed a piece of the stream; return the events it completed. */
  push(piece: string): string[] {
    this.buffer += piece;
    const events: string[] = [];
    // A line ends at \n, \r\n or \r; a lone \r at the very end may be the first half of \r\n.
    for (;;) {
      const match = /\r\n|\n|\r(?!$)/.exec(this.buffer);
      if (!match) {
        break;
      }
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line, events);
    }
    return events;
  }

  /** The stream has ended: return an event left without its blank line, if any. */
  end(): string[] {
    const events: string[] = [];
    if (this.buffer) {
      this.line(this.buffer.replace(/\r$/, ''), events);
      this.buffer = '';
    }
    this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.data.length) {
        events.push(this.data.join('\n'));
        this.data = [];
      }
      return;
    }
    if (line.startsWith(':')) {
      return; // a comment, often a keep-alive
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) {
      value = value.slice(1);
    }
    if (field === 'data') {
      this.data.push(value);
    }
  }
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type ChatEvent =
  | { type: 'delta'; text: string }
  | { type: 'usage'; usage: ChatUsage }
  | { type: 'error'; message: string }
  | { type: 'done' };

/** Read one event's data from a chat completions stream (none for an empty chunk). */
export function chatEventsFrom(data: string): ChatEvent[] {
  if (data.trim() === '[DONE]') {
    return [{ type: 'done' }];
  }
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return [
      { type: 'error', message: `The server sent something unreadable: ${data.slice(0, 80)}` },
    ];
  }
  if (typeof chunk !== 'object' || chunk === null) {
    return [];
  }
  const raw = chunk as {
    error?: { message?: unknown };
    choices?: { delta?: { content?: unknown } }[];
    usage?: Partial<ChatUsage> | null;
  };
  const events: ChatEvent[] = [];
  if (raw.error) {
    events.push({ type: 'error', message: String(raw.error.message ?? 'The AI request failed') });
  }
  for (const choice of Array.isArray(raw.choices) ? raw.choices : []) {
    const text = choice?.delta?.content;
    if (typeof text === 'string' && text) {
      events.push({ type: 'delta', text });
    }
  }
  if (raw.usage && typeof raw.usage === 'object') {
    const prompt = Number(raw.usage.prompt_tokens ?? 0);
    const completion = Number(raw.usage.completion_tokens ?? 0);
    events.push({
      type: 'usage',
      usage: {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: Number(raw.usage.total_tokens ?? prompt + completion),
      },
    });
  }
  return events;
}

/** Read a response body of server-sent events as chat events, until [DONE] or its end. */
export async function* readChatStream(
  body: ReadableStream<Uint8Array>,
): AsyncGenerator<ChatEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SSEParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const events = done
        ? parser.push(decoder.decode()).concat(parser.end())
        : parser.push(decoder.decode(value, { stream: true }));
      for (const data of events) {
        for (const event of chatEventsFrom(data)) {
          yield event;
          if (event.type === 'done') {
            return;
          }
        }
      }
      if (done) {
        return;
      }
    }
  } finally {
    // Stops the download when the caller leaves early (a cancel, an error, a closed panel).
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
