/** Breakpoints in a Monaco editor's glyph margin and the paused line's highlight. */
import { monaco } from '../monaco/setup';
import { debugStore } from './debugStore';
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
    const items: monaco.editor.IModelDeltaDecoration[] = debugStore.breakpoints(k).map((line) => ({
      range: new monaco.Range(line, 1, line, 1),
      options: {
        glyphMarginClassName: 'debug-breakpoint',
        glyphMarginHoverMessage: { value: 'Breakpoint (click to remove)' },
        stickiness: monaco.editor.TrackedRangeStickiness.NeverGrowsWhenTypingAtEdges,
      },
    }));
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
    if (e.target.type === monaco.editor.MouseTargetType.GUTTER_GLYPH_MARGIN && line) {
      debugStore.toggle(key(), line);
    }
  });
  const unsubscribe = debugStore.subscribe(paint);
  paint();
  return () => {
    unsubscribe();
    mouse.dispose();
    decorations.clear();
  };
}
