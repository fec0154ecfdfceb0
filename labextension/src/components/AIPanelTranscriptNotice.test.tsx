import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { IdeClient, type AIPolicy } from '../api/client';
import type { AIState } from '../hooks/useAIState';
import { render } from '../testing/render';
import AIPanel from './AIPanel';

function policy(course: string | null): AIPolicy {
  return {
    course,
    courses: course ? [course] : [],
    mode: 'full',
    until: null,
    reason: null,
    models: ['echo'],
    strictestOf: [],
  };
}

function state(course: string | null): AIState {
  return {
    models: ['echo'],
    model: 'echo',
    setModel: () => undefined,
    policy: policy(course),
    unavailable: null,
    refresh: async () => undefined,
  };
}

const client = new IdeClient(
  ServerConnection.makeSettings({
    baseUrl: 'http://127.0.0.1:8888/',
    fetch: async () => new Response('{}', { status: 404 }),
  }),
);

function panel(course: string | null, onReadTranscripts: () => void) {
  return (
    <AIPanel
      client={client}
      ai={state(course)}
      course={course}
      courseReady
      getEditor={() => null}
      lastError={null}
      request={null}
      inline={false}
      onInline={() => undefined}
      notify={() => undefined}
      onReadTranscripts={onReadTranscripts}
    />
  );
}

describe('AIPanel transcript notice', () => {
  Element.prototype.scrollTo ??= () => undefined; // jsdom does not scroll

  it('tells a student of a course that its instructors read the conversations', async () => {
    const read = vi.fn();
    const view = await render(panel('cs101', read));
    expect(view.byTestId('ai-transcript-notice')?.textContent).toContain(
      'Your instructors in cs101 can read your conversations with the assistant.',
    );
    await act(async () => view.byTestId('ai-transcripts-open')?.click());
    expect(read).toHaveBeenCalledOnce();
    await view.unmount();
  });

  it('says nothing when no course is in force (nothing is kept then)', async () => {
    const view = await render(panel(null, vi.fn()));
    expect(view.byTestId('ai-transcript-notice')).toBeNull();
    await view.unmount();
  });
});
