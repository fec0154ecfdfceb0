import { act } from 'react';
import { describe, expect, it } from 'vitest';
import { HEIGHT_MESSAGE } from '../lib/outputFrame';
import { NO_REMOTE } from '../lib/sanitize';
import { render } from '../testing/render';
import { HtmlOutputFrame } from './HtmlOutputFrame';

describe('HtmlOutputFrame', () => {
  it('sandboxes the sanitised output and sizes itself from its own frame only', async () => {
    const view = await render(
      <HtmlOutputFrame
        html={'<b>bold</b><script>parent.x = 1</script><form><input></form>'}
        policy={NO_REMOTE}
      />,
    );
    const frame = view.byTestId('output-html-frame') as HTMLIFrameElement;
    expect(frame.getAttribute('sandbox')).not.toContain('allow-same-origin');
    const doc = frame.getAttribute('srcdoc') ?? '';
    expect(doc).toContain('<b>bold</b>');
    expect(doc).not.toMatch(/parent\.x|<form|<input/);
    expect(doc).toContain('http-equiv="Content-Security-Policy"');

    const post = async (source: MessageEventSource | null, height: number) =>
      act(async () => {
        window.dispatchEvent(
          new MessageEvent('message', { data: { type: HEIGHT_MESSAGE, height }, source }),
        );
      });
    await post(window, 900);
    expect(frame.style.height).toBe('24px');
    await post(frame.contentWindow, 321);
    expect(frame.style.height).toBe('321px');
    await post(frame.contentWindow, 99_999);
    expect(frame.style.height).toBe('4000px');
    await view.unmount();
  });
});
