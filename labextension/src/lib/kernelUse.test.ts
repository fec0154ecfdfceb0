import { describe, expect, it } from 'vitest';
import { closeDecision } from './kernelUse';

describe('closeDecision', () => {
  it('shuts an idle kernel down when only this view is attached', () => {
    expect(closeDecision({ connections: 1, executionState: 'idle' })).toBe('shutdown');
    expect(closeDecision({ connections: 0, executionState: 'idle' })).toBe('shutdown');
  });

  it('keeps a kernel another view uses, busy or not', () => {
    expect(closeDecision({ connections: 2, executionState: 'idle' })).toBe('keep');
    expect(closeDecision({ connections: 3, executionState: 'busy' })).toBe('keep');
  });

  it('asks before stopping a cell that is still running', () => {
    expect(closeDecision({ connections: 1, executionState: 'busy' })).toBe('ask');
  });

  it('does nothing without a kernel', () => {
    expect(closeDecision(null)).toBe('none');
  });
});
