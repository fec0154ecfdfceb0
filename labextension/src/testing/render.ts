/** Render components into jsdom for unit tests, with React's act() so effects settle. */
import { act, type ReactNode } from 'react';
import { createRoot, type Root } from 'react-dom/client';

declare global {
  var IS_REACT_ACT_ENVIRONMENT: boolean | undefined;
}

export interface Rendered {
  container: HTMLElement;
  byTestId: (id: string) => HTMLElement | null;
  unmount: () => Promise<void>;
}

/** Render ``node`` into a fresh element and let its first effects run. */
export async function render(node: ReactNode): Promise<Rendered> {
  globalThis.IS_REACT_ACT_ENVIRONMENT = true;
  const container = document.createElement('div');
  document.body.appendChild(container);
  let root: Root | null = null;
  await act(async () => {
    root = createRoot(container);
    root.render(node);
  });
  return {
    container,
    byTestId: (id) => container.querySelector(`[data-testid="${id}"]`),
    unmount: async () => {
      await act(async () => root?.unmount());
      container.remove();
    },
  };
}
