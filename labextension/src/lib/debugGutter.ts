/** Breakpoints in a Monaco editor's glyph margin and the paused line's highlight. */
import { monaco } from '../monaco/setup';
import { editBreakpoint } from './debugCondition';
import { breakpointClass, debugStore, describeBreakpoint } from './debugStore';
import '../components/DebugPanel.css';

/** Show and toggle breakpoints of ``key()`` in ``editor``; return what stops it. */
export function attachDebugGutter(
  editor: monaco.editor.IStandaloneCodeEditor,
  key: () => string,
): () => void {
  const decorations = editor.createDecorationsCollection();
  const paint = () => {
    const k = key();
    const here = debugStore.location();
    const items: monaco.editor.IModelDeltaDecoration[] = debugStore.breakpoints(k).map((line) => {
      const options = debugStore.options(k, line);
      return {
        range: new monaco.Range(line, 1, line, 1),
        options: {
          glyphMarginClassName: breakpointClass(options),
          glyphMarginHoverMessage: {
            value: `${describeBreakpoint(options)} (click to remove, right-click to edit)`,
          },
          stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
        },
      };
    });
    if (here && here.key === k) {
      items.push({
        range: new monaco.Range(here.line, 1, here.line, 1),
        options: {
          isWholeLine: true,
          className: 'debug-current-line',
          glyphMarginClassName: 'debug-current-glyph',
        },
      });
      editor.revealLineInCenterIfOutsideViewport(here.line);
    }
    decorations.set(items);
  };
  const mouse = editor.onMouseDown((e) => {
    const line = e.target.position?.lineNumber;
    if (
      e.target.type === monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN &&
      line &&
      e.event.leftButton
    ) {
      debugStore.toggle(key(), line);
    }
  });
  let closeEditor: (() => void) | null = null;
  const edit = (line: number) => {
    closeEditor?.();
    closeEditor = editBreakpoint(editor, key(), line);
  };
  // Right-click in the glyph margin edits that line's breakpoint (Monaco shows no menu there).
  const menu = editor.onContextMenu((e) => {
    const line = e.target.position?.lineNumber;
    if (e.target.type === monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN && line) {
      edit(line);
    }
  });
  // In the text's context menu: the cursor's line.
  const action = editor.addAction({
    id: 'ide.debug.editBreakpoint',
    label: 'Edit Breakpoint Condition…',
    contextMenuGroupId: 'debug',
    contextMenuOrder: 1,
    run: () => {
      const line = editor.getPosition()?.lineNumber;
      if (line) {
        edit(line);
      }
    },
  });
  const unsubscribe = debugStore.subscribe(paint);
  paint();
  return () => {
    closeEditor?.();
    unsubscribe();
    mouse.dispose();
    menu.dispose();
    action.dispose();
    decorations.clear();
  };
}
