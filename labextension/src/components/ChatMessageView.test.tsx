import { act } from 'react';
import { describe, expect, it, vi } from 'vitest';
import { render } from '../testing/render';
import { ChatMessageView, type ChatEntry } from './ChatMessageView';

function answer(content: string, streaming = false): ChatEntry {
  return { id: 1, role: 'assistant', content, streaming, error: null };
}

describe('ChatMessageView', () => {
  it('renders markdown without anything executable, and code blocks with buttons', async () => {
    const onInsert = vi.fn();
    const onApply = vi.fn();
    const view = await render(
      <ChatMessageView
        entry={answer(
          'Use **this** <img src=x onerror="window.hacked=1">\n\n```python\nprint("<b>x</b>")\n```',
        )}
        onInsert={onInsert}
        onApply={onApply}
      />,
    );
    const html = view.container.innerHTML;
    expect(html).toContain('<strong>this</strong>');
    expect(html).not.toContain('onerror');
    expect(view.byTestId('chat-code')?.querySelector('code')?.textContent).toBe(
      'print("<b>x</b>")',
    );
    await act(async () => view.byTestId('chat-code-insert')?.click());
    expect(onInsert).toHaveBeenCalledWith('print("<b>x</b>")');
    await act(async () => view.byTestId('chat-code-apply')?.click());
    expect(onApply).toHaveBeenCalledWith('print("<b>x</b>")', 'python');
    await view.unmount();
  });

  it('keeps code buttons off while the answer streams, and shows errors', async () => {
    const view = await render(
      <ChatMessageView
        entry={{ ...answer('```js\nlet a', true), error: 'Limit reached: tokens per day' }}
        onInsert={() => undefined}
        onApply={() => undefined}
      />,
    );
    expect((view.byTestId('chat-code-insert') as HTMLButtonElement).disabled).toBe(true);
    expect(view.byTestId('chat-error')?.textContent).toBe('Limit reached: tokens per day');
    await view.unmount();
  });

  it("shows the student's question as plain text", async () => {
    const view = await render(
      <ChatMessageView
        entry={{ id: 2, role: 'user', content: '<b>bold?</b>', streaming: false, error: null }}
        onInsert={() => undefined}
        onApply={() => undefined}
      />,
    );
    expect(view.byTestId('chat-user')?.textContent).toBe('<b>bold?</b>');
    expect(view.container.querySelector('b')).toBeNull();
    await view.unmount();
  });
});
