/** The breakpoint editor: a small form under a line to set a condition, hit count or log message. */
import { monaco } from '../monaco/setup';
import { BREAKPOINT_KINDS, debugStore, firstKind, type BreakpointOption } from './debugStore';

let counter = 0;

/** Open the breakpoint editor under ``line`` of ``editor``; Enter saves, Escape closes. */
export function editBreakpoint(
  editor: monaco.editor.IStandaloneCodeEditor,
  key: string,
  line: number,
): () => void {
  counter += 1;
  const options = { ...debugStore.options(key, line) };
  const node = document.createElement('div');
  node.className = 'debug-condition';
  node.dataset.testid = 'debug-condition';
  const kind = document.createElement('select');
  kind.dataset.testid = 'debug-condition-kind';
  kind.setAttribute('aria-label', 'Breakpoint kind');
  for (const k of BREAKPOINT_KINDS) {
    kind.append(new Option(k.label, k.field));
  }
  const input = document.createElement('input');
  input.dataset.testid = 'debug-condition-input';
  input.setAttribute('aria-label', 'Breakpoint condition');
  node.append(kind, input);
  const show = (field: BreakpointOption) => {
    kind.value = field;
    input.value = options[field] ?? '';
    input.placeholder = BREAKPOINT_KINDS.find((k) => k.field === field)?.hint ?? '';
  };
  show(firstKind(options));

  const widget: monaco.editor.IContentWidget = {
    getId: () => `ide.debug.condition.${counter}`,
    getDomNode: () => node,
    getPosition: () => ({
      position: { lineNumber: line, column: 1 },
      preference: [monaco.editor.ContentWidgetPositionPreference.BELOW],
    }),
  };
  let open = true;
  const close = () => {
    if (open) {
      open = false;
      editor.removeContentWidget(widget);
      editor.focus();
    }
  };
  kind.addEventListener('change', () => {
    options[kind.value as BreakpointOption] = input.value;
    show(kind.value as BreakpointOption);
    input.focus();
  });
  input.addEventListener('input', () => {
    options[kind.value as BreakpointOption] = input.value;
  });
  node.addEventListener('keydown', (e) => {
    e.stopPropagation(); // keys typed here are not the editor's
    if (e.key === 'Enter') {
      e.preventDefault();
      debugStore.setOptions(key, line, options);
      close();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close();
    }
  });
  editor.addContentWidget(widget);
  setTimeout(() => input.focus(), 0);
  return close;
}
