/** OpenAI-style server-sent events: `data:` lines, one JSON chunk each, ending in `[DONE]`. */

export type ChatEvent =
  { type: 'delta'; text: string } | { type: 'error'; message: string } | { type: 'done' };

/** Split a stream of text pieces into the `data` of each complete event, in order. */
export class EventSplitter {
  private buffer = '';
  private data: string[] = [];

  /** Feed a piece of the stream; return the events it completed. */
  push(piece: string): string[] {
    this.buffer += piece;
    const events: string[] = [];
    for (;;) {
      const match = /\r\n|\n|\r(?!$)/.exec(this.buffer);
      if (!match) {
        return events;
      }
      this.line(this.buffer.slice(0, match.index), events);
      this.buffer = this.buffer.slice(match.index + match[0].length);
    }
  }

  /** The stream ended: the event left without its blank line, if any. */
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
    } else if (line.startsWith('data:')) {
      this.data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}

/** The chat events in one event's data (none for a chunk without text). */
export function chatEvents(data: string): ChatEvent[] {
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
  return events;
}

/** Read a response body as chat events, until `[DONE]` or its end. */
export async function* readChat(body: ReadableStream<Uint8Array>): AsyncGenerator<ChatEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const splitter = new EventSplitter();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const datas = done
        ? splitter.push(decoder.decode()).concat(splitter.end())
        : splitter.push(decoder.decode(value, { stream: true }));
      for (const data of datas) {
        for (const event of chatEvents(data)) {
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
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
