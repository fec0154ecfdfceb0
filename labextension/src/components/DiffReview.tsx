/** A Monaco diff editor in a dialog: review a proposed text, edit it, then accept or cancel. */
import { useEffect, useRef } from 'react';
import { monaco } from '../monaco/setup';

interface Props {
  title: string;
  original: string;
  modified: string;
  language: string;
  acceptLabel: string;
  /** Null: nothing to accept, the dialog only shows. */
  onAccept: ((text: string) => void) | null;
  onClose: () => void;
  /** Whether the right side may be edited before accepting (default: when there is onAccept). */
  editable?: boolean;
  /** What the two sides are. */
  sides?: string;
}

export default function DiffReview({
  title,
  original,
  modified,
  language,
  acceptLabel,
  onAccept,
  onClose,
  editable = onAccept !== null,
  sides = 'current ⟷ proposed',
}: Props) {
  const host = useRef<HTMLDivElement>(null);
  const modifiedModel = useRef<monaco.editor.ITextModel | null>(null);

  useEffect(() => {
    if (!host.current) {
      return;
    }
    const left = monaco.editor.createModel(original, language);
    const right = monaco.editor.createModel(modified, language);
    modifiedModel.current = right;
    const editor = monaco.editor.createDiffEditor(host.current, {
      automaticLayout: true,
      originalEditable: false,
      readOnly: !editable,
      renderSideBySide: true,
      minimap: { enabled: false },
      fontSize: 13,
    });
    editor.setModel({ original: left, modified: right });
    return () => {
      editor.dispose();
      left.dispose();
      right.dispose();
      modifiedModel.current = null;
    };
    // One editor per dialog; a new proposal opens a new dialog.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="dialog-backdrop" onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div
        className="dialog diff-dialog"
        role="dialog"
        aria-label={title}
        data-testid="diff-review"
      >
        <div className="dialog-title">
          <span>{title}</span>
          <span className="toolbar-spacer" />
          <span className="muted">{sides}</span>
        </div>
        <div className="diff-host" ref={host} />
        <div className="dialog-buttons">
          <button data-testid="diff-cancel" onClick={onClose}>
            {onAccept ? 'Cancel' : 'Close'}
          </button>
          {onAccept && (
            <button
              className="primary"
              data-testid="diff-accept"
              onClick={() => onAccept(modifiedModel.current?.getValue() ?? modified)}
            >
              {acceptLabel}
            </button>
          )}
        </div>
      </div>
    </div>
  );
}
