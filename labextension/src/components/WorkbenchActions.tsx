/** Buttons beside the tabs: run the open file, and open the side panels. */
import { SIDE_TITLES, type SideView } from './SidePanel';

interface Props {
  side: SideView | null;
  onSide: (view: SideView | null) => void;
  /** Null when the open document cannot be run. */
  runLabel: string | null;
  running: boolean;
  onRun: () => void;
}

const ICONS: Record<SideView, string> = {
  ai: '✦',
  history: '⟲',
  tests: '✓',
  debug: '◉',
  assignments: '✎',
  help: '✋',
  activity: '◷',
  live: '◎',
};

export function WorkbenchActions({ side, onSide, runLabel, running, onRun }: Props) {
  return (
    <div className="workbench-actions" role="toolbar" aria-label="Workbench">
      {runLabel !== null && (
        <button
          className="run-button"
          data-testid="run-file"
          title={`Run this ${runLabel} file (F5)`}
          disabled={running}
          onClick={onRun}
        >
          {running ? '… Running' : '▶ Run'}
        </button>
      )}
      {(Object.keys(SIDE_TITLES) as SideView[]).map((v) => (
        <button
          key={v}
          data-testid={`open-${v}`}
          aria-pressed={side === v}
          title={SIDE_TITLES[v]}
          onClick={() => onSide(side === v ? null : v)}
        >
          {ICONS[v]} {SIDE_TITLES[v]}
        </button>
      ))}
    </div>
  );
}
