import { describe, expect, it } from 'vitest';
import { appendOutput, joinText, outputFromMessage, pickMime, type Output } from './outputs';

describe('pickMime', () => {
  it('prefers rich types over text', () => {
    expect(pickMime({ 'text/plain': 'x', 'text/html': '<b>x</b>' })).toBe('text/html');
    expect(pickMime({ 'text/plain': 'x', 'image/png': 'AAAA' })).toBe('image/png');
    expect(pickMime({ 'text/plain': 'x', 'application/json': {} })).toBe('application/json');
    expect(pickMime({ 'text/plain': 'x', 'text/markdown': '# x' })).toBe('text/markdown');
    expect(pickMime({ 'application/x-unknown': 1 })).toBeNull();
  });
});

describe('outputs from IOPub messages', () => {
  it('builds streams, errors and results', () => {
    expect(outputFromMessage('stream', { name: 'stdout', text: '42\n' })).toEqual({
      output_type: 'stream',
      name: 'stdout',
      text: '42\n',
    });
    const error = outputFromMessage('error', { ename: 'E', evalue: 'v', traceback: ['a', 'b'] });
    expect(error).toEqual({ output_type: 'error', ename: 'E', evalue: 'v', traceback: ['a', 'b'] });
    const result = outputFromMessage('execute_result', {
      data: { 'text/plain': '1' },
      metadata: {},
      execution_count: 3,
    });
    expect(result).toMatchObject({ output_type: 'execute_result', execution_count: 3 });
    expect(outputFromMessage('status', { execution_state: 'idle' })).toBeNull();
  });
  it('merges consecutive text on the same stream only', () => {
    let outputs: Output[] = [];
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: 'a' });
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: ['b', 'c'] });
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stderr', text: 'd' });
    expect(outputs).toHaveLength(2);
    expect(joinText((outputs[0] as { text: string }).text)).toBe('abc');
  });
});
