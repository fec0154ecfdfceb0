/** Notebook outputs (nbformat 4) and how each is shown. */

export type MultilineString = string | string[];
export type MimeBundle = Record<string, unknown>;

export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineString;
}

export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface DataOutput {
  output_type: 'execute_result' | 'display_data';
  data: MimeBundle;
  metadata: Record<string, unknown>;
  execution_count?: number | null;
}

export type Output = StreamOutput | ErrorOutput | DataOutput;

/** The mime types we render, best first. */
export const MIME_PRIORITY = [
  'text/html',
  'image/png',
  'image/jpeg',
  'image/svg+xml',
  'text/markdown',
  'application/json',
  'text/plain',
] as const;

export type RenderableMime = (typeof MIME_PRIORITY)[number];

/** Join a multiline string. */
export function joinText(text: MultilineString | unknown): string {
  if (Array.isArray(text)) {
    return text.join('');
  }
  return typeof text === 'string' ? text : '';
}

/** Pick the richest mime type of a bundle that we can render, or null. */
export function pickMime(data: MimeBundle): RenderableMime | null {
  for (const mime of MIME_PRIORITY) {
    if (mime in data) {
      return mime;
    }
  }
  return null;
}

/** Append an output, merging consecutive text on the same stream like Jupyter does. */
export function appendOutput(outputs: Output[], output: Output): Output[] {
  const last = outputs[outputs.length - 1];
  if (
    output.output_type === 'stream' &&
    last?.output_type === 'stream' &&
    last.name === output.name
  ) {
    const merged: StreamOutput = { ...last, text: joinText(last.text) + joinText(output.text) };
    return [...outputs.slice(0, -1), merged];
  }
  return [...outputs, output];
}

/** Build an output from an IOPub message type and content, or null if it is not one. */
export function outputFromMessage(
  msgType: string,
  content: Record<string, unknown>,
): Output | null {
  switch (msgType) {
    case 'stream':
      return {
        output_type: 'stream',
        name: content.name === 'stderr' ? 'stderr' : 'stdout',
        text: joinText(content.text),
      };
    case 'error':
      return {
        output_type: 'error',
        ename: String(content.ename ?? ''),
        evalue: String(content.evalue ?? ''),
        traceback: Array.isArray(content.traceback) ? content.traceback.map(String) : [],
      };
    case 'execute_result':
    case 'display_data':
      return {
        output_type: msgType,
        data: (content.data as MimeBundle) ?? {},
        metadata: (content.metadata as Record<string, unknown>) ?? {},
        ...(msgType === 'execute_result'
          ? { execution_count: (content.execution_count as number | null) ?? null }
          : {}),
      };
    default:
      return null;
  }
}
