import { describe, expect, it } from 'vitest';
import { TabBar } from './TabBar';
import { render } from '../testing/render';

describe('TabBar', () => {
  it('marks unsaved tabs and the active one', async () => {
    const closed: string[] = [];
    const view = await render(
      <TabBar
        tabs={[
          { id: 1, path: 'src/a.py', kind: 'file' },
          { id: 2, path: 'b.ipynb', kind: 'notebook' },
        ]}
        active="b.ipynb"
        dirty={new Set(['src/a.py'])}
        onSelect={() => undefined}
        onClose={(path) => closed.push(path)}
      />,
    );
    const a = view.byTestId('tab-src/a.py');
    const b = view.byTestId('tab-b.ipynb');
    expect(a?.textContent).toContain('a.py');
    expect(a?.querySelector('[data-testid="tab-dirty"]')?.textContent).toBe('●');
    expect(b?.querySelector('[data-testid="tab-dirty"]')).toBeNull();
    expect(b?.getAttribute('aria-selected')).toBe('true');
    a?.querySelector<HTMLButtonElement>('button[aria-label="Close a.py"]')?.click();
    expect(closed).toEqual(['src/a.py']);
    await view.unmount();
  });
});
