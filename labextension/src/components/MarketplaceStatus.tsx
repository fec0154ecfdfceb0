/** The status bar's part for extensions: their items, and the button opening the marketplace. */
import { useSyncExternalStore } from 'react';
import { getState, setPanelOpen, subscribe } from '../extensions/store';

export function MarketplaceStatus() {
  const state = useSyncExternalStore(subscribe, getState);
  return (
    <>
      <button
        className="status-item status-button"
        data-testid="open-marketplace"
        aria-pressed={state.panelOpen}
        onClick={() => setPanelOpen(!state.panelOpen)}
      >
        ⧉ Extensions
      </button>
      {state.statusItems.map((item) => (
        <span
          key={`${item.extension}/${item.id}`}
          className="status-item status-extension"
          data-testid={`ext-status-${item.id}`}
          title={item.extension}
        >
          {item.text}
        </span>
      ))}
    </>
  );
}
