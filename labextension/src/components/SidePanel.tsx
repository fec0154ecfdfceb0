/** The right-hand panel: the assistant, a file's history, its tests, the debugger, assignments, help. */
import type { ReactNode } from 'react';

export type SideView =
  'ai' | 'history' | 'tests' | 'debug' | 'assignments' | 'help' | 'activity' | 'live';

export const SIDE_TITLES: Record<SideView, string> = {
  ai: 'Assistant',
  history: 'History',
  tests: 'Tests',
  debug: 'Debug',
  assignments: 'Assignments',
  help: 'Help',
  activity: 'Activity',
  live: 'Live',
};

interface Props {
  view: SideView | null;
  /** Panels opened at least once stay mounted, so a chat survives switching tabs. */
  mounted: ReadonlySet<SideView>;
  onView: (view: SideView | null) => void;
  render: (view: SideView) => ReactNode;
}

export function SidePanel({ view, mounted, onView, render }: Props) {
  return (
    <aside className="sidepanel" hidden={view === null} data-testid="sidepanel">
      <div className="sidepanel-tabs" role="tablist">
        {(Object.keys(SIDE_TITLES) as SideView[]).map((v) => (
          <button
            key={v}
            role="tab"
            aria-selected={v === view}
            className={`sidepanel-tab ${v === view ? 'sidepanel-tab-active' : ''}`}
            data-testid={`side-tab-${v}`}
            onClick={() => onView(v)}
          >
            {SIDE_TITLES[v]}
          </button>
        ))}
        <span className="toolbar-spacer" />
        <button aria-label="Close the panel" data-testid="side-close" onClick={() => onView(null)}>
          ×
        </button>
      </div>
      {[...mounted].map((v) => (
        <div key={v} className="sidepanel-body" hidden={v !== view}>
          {render(v)}
        </div>
      ))}
    </aside>
  );
}
