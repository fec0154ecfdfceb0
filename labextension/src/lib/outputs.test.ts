import { describe, expect, it } from 'vitest';
import { appendOutput, joinText, outputFromMessage, pickMime, type Output } from './outputs';

describe('pickMime', () => {
  it('prefers the richest type we can render', () => {
    expect(pickMime({ 'text/plain': 'x', 'text/html': '<b>x</b>' })).toBe('text/html');
    expect(pickMime({ 'text/plain': 'x', 'image/png': 'AAAA' })).toBe('image/png');
    expect(pickMime({ 'text/plain': 'x', 'text/markdown': '# x' })).toBe('text/markdown');
    expect(pickMime({ 'text/plain': 'x', 'application/json': { a: 1 } })).toBe('application/json');
    expect(pickMime({ 'text/plain': 'x' })).toBe('text/plain');
  });

  it('returns null when nothing is renderable', () => {
    expect(pickMime({ 'application/x-unknown': 'x' })).toBeNull();
    expect(pickMime({})).toBeNull();
  });

  it('skips types it cannot render in favour of text', () => {
    expect(pickMime({ 'application/vnd.widget+json': {}, 'text/plain': 'w' })).toBe('text/plain');
  });
});

describe('joinText', () => {
  it('joins nbformat multiline strings', () => {
    expect(joinText(['a\n', 'b'])).toBe('a\nb');
    expect(joinText('ab')).toBe('ab');
    expect(joinText(undefined)).toBe('');
  });
});

describe('appendOutput', () => {
  it('merges consecutive text on the same stream', () => {
    let outputs: Output[] = [];
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: 'a\n' });
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: ['b\n'] });
    expect(outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: 'a\nb\n' }]);
  });

  it('keeps different streams apart', () => {
    let outputs: Output[] = [];
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: 'a' });
    outputs = appendOutput(outputs, { output_type: 'stream', name: 'stderr', text: 'b' });
    expect(outputs).toHaveLength(2);
  });

  it('does not change the list it was given', () => {
    const outputs: Output[] = [{ output_type: 'stream', name: 'stdout', text: 'a' }];
    appendOutput(outputs, { output_type: 'stream', name: 'stdout', text: 'b' });
    expect(outputs[0]).toEqual({ output_type: 'stream', name: 'stdout', text: 'a' });
  });
});

describe('outputFromMessage', () => {
  it('reads streams', () => {
    expect(outputFromMessage('stream', { name: 'stderr', text: 'oops' })).toEqual({
      output_type: 'stream',
      name: 'stderr',
      text: 'oops',
    });
  });

  it('reads errors', () => {
    expect(
      outputFromMessage('error', { ename: 'ZeroDivisionError', evalue: 'x', traceback: ['t'] }),
    ).toEqual({ output_type: 'error', ename: 'ZeroDivisionError', evalue: 'x', traceback: ['t'] });
  });

  it('reads results with their execution count, and display data without', () => {
    const result = outputFromMessage('execute_result', {
      data: { 'text/plain': '42' },
      metadata: {},
      execution_count: 3,
    });
    expect(result).toEqual({
      output_type: 'execute_result',
      data: { 'text/plain': '42' },
      metadata: {},
      execution_count: 3,
    });
    const display = outputFromMessage('display_data', { data: { 'image/png': 'AA' } });
    expect(display).toEqual({
      output_type: 'display_data',
      data: { 'image/png': 'AA' },
      metadata: {},
    });
  });

  it('ignores messages that are not outputs', () => {
    expect(outputFromMessage('status', { execution_state: 'busy' })).toBeNull();
    expect(outputFromMessage('execute_input', { code: 'x' })).toBeNull();
  });
});
