import { describe, expect, it } from 'vitest';
import { chatEventsFrom, readChatStream, SSEParser, type ChatEvent } from './sse';

function chunk(content: string): string {
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
}

function streamOf(pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) {
        controller.enqueue(encoder.encode(piece));
      }
      controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  for await (const event of readChatStream(stream)) {
    events.push(event);
  }
  return events;
}

describe('SSEParser', () => {
  it('returns each event once its blank line arrives, across any split', () => {
    const parser = new SSEParser();
    expect(parser.push('data: {"a"')).toEqual([]);
    expect(parser.push(':1}\n')).toEqual([]);
    expect(parser.push('\ndata: two\n\ndata: thr')).toEqual(['{"a":1}', 'two']);
    expect(parser.push('ee\n\n')).toEqual(['three']);
  });

  it('joins multi-line data, skips comments and other fields, and takes CRLF and CR', () => {
    const parser = new SSEParser();
    const text = ': keep-alive\r\nevent: x\r\nid: 7\r\ndata: one\r\ndata:two\r\n\r\ndata: cr\r\r\n';
    expect(parser.push(text)).toEqual(['one\ntwo', 'cr']);
  });

  it('keeps a trailing CR until it knows whether LF follows', () => {
    const parser = new SSEParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual(['a']);
  });

  it('hands over an unterminated last event at the end', () => {
    const parser = new SSEParser();
    expect(parser.push('data: last')).toEqual([]);
    expect(parser.end()).toEqual(['last']);
    expect(parser.end()).toEqual([]);
  });
});

describe('chatEventsFrom', () => {
  it('reads deltas, usage, errors and the end', () => {
    expect(chatEventsFrom('[DONE]')).toEqual([{ type: 'done' }]);
    expect(chatEventsFrom(JSON.stringify({ choices: [{ delta: { content: 'hi' } }] }))).toEqual([
      { type: 'delta', text: 'hi' },
    ]);
    expect(
      chatEventsFrom(
        JSON.stringify({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4 } }),
      ),
    ).toEqual([
      { type: 'usage', usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } },
    ]);
    expect(chatEventsFrom('{"error": {"message": "upstream failed"}}')).toEqual([
      { type: 'error', message: 'upstream failed' },
    ]);
  });

  it('ignores empty deltas and reports data that is not JSON', () => {
    expect(chatEventsFrom(JSON.stringify({ choices: [{ delta: { role: 'assistant' } }] }))).toEqual(
      [],
    );
    expect(chatEventsFrom('null')).toEqual([]);
    const [event] = chatEventsFrom('<html>');
    expect(event?.type).toBe('error');
  });
});

describe('readChatStream', () => {
  it('yields the text of a stream split at awkward places, and stops at [DONE]', async () => {
    const text = chunk('Hello') + chunk(' wörld') + 'data: [DONE]\n\n' + chunk('after');
    const bytes = new TextEncoder().encode(text);
    // Split in the middle of the two-byte "ö" too.
    const cut = text.indexOf('ö') + 'data: '.length;
    const decoder = new TextDecoder();
    const pieces = [bytes.slice(0, 5), bytes.slice(5, cut), bytes.slice(cut)];
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        pieces.forEach((p) => controller.enqueue(p));
        controller.close();
      },
    });
    const events = await collect(stream);
    expect(events).toEqual([
      { type: 'delta', text: 'Hello' },
      { type: 'delta', text: ' wörld' },
      { type: 'done' },
    ]);
    expect(decoder.decode(bytes)).toContain('wörld');
  });

  it('ends quietly when the stream closes without [DONE]', async () => {
    expect(
      await collect(streamOf([chunk('a'), 'data: {"choices":[{"delta":{"content":"b"}}]}'])),
    ).toEqual([
      { type: 'delta', text: 'a' },
      { type: 'delta', text: 'b' },
    ]);
  });

  it('cancels the download when the reader stops early', async () => {
    let cancelled = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(chunk('first')));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of readChatStream(stream)) {
      expect(event).toEqual({ type: 'delta', text: 'first' });
      break;
    }
    expect(cancelled).toBe(true);
  });
});
