/** A re-released starter file the student had changed, in Monaco's diff editor: the new
 * version (or the one they were given) on the left, theirs on the right, editable; they keep
 * theirs, take the new one, or save the merge they made on the right. Nothing is overwritten
 * until they choose. */
import { useLayoutEffect, useRef, useState } from 'react';
import { refusal, type IdeClient } from '../api/client';
import type { MergeChoice, MergeResult, MergeVersions } from '../lib/assignments';
import { languageForPath } from '../lib/languages';
import { applyReleaseChanges } from '../lib/merge3';
import { monaco } from '../monaco/setup';

interface Props {
  client: IdeClient;
  course: string;
  assignment: string;
  versions: MergeVersions;
  /** The file was settled (the server's answer). */
  onSettled: (result: MergeResult, choice: MergeChoice) => void;
  onClose: () => void;
}

type Left = 'new' | 'base';

export default function MergeView({
  client,
  course,
  assignment,
  versions,
  onSettled,
  onClose,
}: Props) {
  const host = useRef<HTMLDivElement>(null);
  const original = useRef<monaco.editor.ITextModel | null>(null);
  const mine = useRef<monaco.editor.ITextModel | null>(null);
  const [left, setLeft] = useState<Left>('new');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  // A layout effect: its clean-up disposes the editor before React removes its DOM, so the
  // blur that removal causes never reaches a disposed editor ("AbstractContextKeyService has
  // been disposed" in the page after a merge was saved with the cursor in the editor).
  useLayoutEffect(() => {
    if (!host.current) {
      return;
    }
    const language = languageForPath(versions.path);
    const leftModel = monaco.editor.createModel(versions.next, language);
    const rightModel = monaco.editor.createModel(versions.theirs, language);
    original.current = leftModel;
    mine.current = rightModel;
    const editor = monaco.editor.createDiffEditor(host.current, {
      automaticLayout: true,
      originalEditable: false,
      renderSideBySide: true,
      minimap: { enabled: false },
      fontSize: 13,
    });
    editor.setModel({ original: leftModel, modified: rightModel });
    return () => {
      editor.dispose();
      leftModel.dispose();
      rightModel.dispose();
      original.current = null;
      mine.current = null;
    };
    // One editor per dialog; another file opens another dialog.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const showLeft = (which: Left) => {
    setLeft(which);
    original.current?.setValue(which === 'new' ? versions.next : (versions.base ?? ''));
  };

  /** Put the release's changes (given -> new) into the right side, where they fit. */
  const applyChanges = () => {
    const merged = applyReleaseChanges(
      versions.base,
      versions.next,
      mine.current?.getValue() ?? versions.theirs,
    );
    if (merged === null) {
      setProblem('The new version changed lines you changed too: merge them by hand on the right.');
      return;
    }
    mine.current?.setValue(merged);
    setProblem(null);
  };

  const settle = async (choice: MergeChoice) => {
    setBusy(true);
    try {
      const result = await client.settleMerge(course, assignment, {
        path: versions.path,
        choice,
        content: choice === 'merged' ? (mine.current?.getValue() ?? versions.theirs) : undefined,
        theirsHash: versions.theirsHash,
      });
      onSettled(result, choice);
    } catch (e) {
      setProblem((await refusal(e)).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="dialog-backdrop" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div
        className="dialog diff-dialog"
        role="dialog"
        aria-label={`Merge ${versions.path}`}
        data-testid="merge-view"
      >
        <div className="dialog-title">
          <span>
            {versions.path}: version {versions.version} and your changes
          </span>
          <span className="toolbar-spacer" />
          <select
            aria-label="Left side"
            data-testid="merge-left"
            value={left}
            onChange={(e) => showLeft(e.target.value as Left)}
          >
            <option value="new">the new version</option>
            {versions.base !== null && <option value="base">as you were given it</option>}
          </select>
          <span className="muted">⟷ yours (edit it to merge)</span>
        </div>
        <div className="diff-host" ref={host} />
        {problem && (
          <div className="banner banner-error" data-testid="merge-error">
            {problem}
          </div>
        )}
        <div className="dialog-buttons">
          <button data-testid="merge-cancel" onClick={onClose}>
            Later
          </button>
          {versions.base !== null && (
            <button data-testid="merge-apply" disabled={busy} onClick={applyChanges}>
              Apply the new version’s changes to mine
            </button>
          )}
          <button data-testid="merge-theirs" disabled={busy} onClick={() => void settle('theirs')}>
            Keep mine
          </button>
          <button data-testid="merge-new" disabled={busy} onClick={() => void settle('new')}>
            Take the new version
          </button>
          <button
            className="primary"
            data-testid="merge-save"
            disabled={busy}
            onClick={() => void settle('merged')}
          >
            Save the merge
          </button>
        </div>
      </div>
    </div>
  );
}
