/** Apply declarative contributions in Monaco: the enabled colour theme, snippets. */
import { monaco } from '../monaco/setup';
import type { MarketplaceClient } from './client';
import { readText } from './loader';
import type { Install } from './permissions';
import { parseJsonc, parseSnippets, themeId, toMonacoTheme } from './themes';

/** The IDE's own theme, back when no extension theme is on. */
export const DEFAULT_THEME = 'vs-dark';

function list(install: Install, kind: string): Record<string, unknown>[] {
  const contributes = install.manifest.contributes;
  const items =
    typeof contributes === 'object' && contributes !== null
      ? (contributes as Record<string, unknown>)[kind]
      : undefined;
  return Array.isArray(items)
    ? items.filter((i): i is Record<string, unknown> => typeof i === 'object' && i !== null)
    : [];
}

/** Keeps Monaco's theme and snippet providers in step with the enabled installs. */
export class Contributions {
  private theme: string | null = null;
  private readonly snippets = new Map<string, monaco.IDisposable[]>();

  constructor(private readonly market: MarketplaceClient) {}

  /** The theme applied now (null: the IDE's own). */
  get currentTheme(): string | null {
    return this.theme;
  }

  /** Apply the contributions of these installs; undo those of the others. */
  async apply(installs: Install[]): Promise<void> {
    const enabled = installs.filter((i) => i.enabled);
    let chosen: string | null = null;
    for (const install of enabled) {
      const themes = list(install, 'themes');
      for (const [index, theme] of themes.entries()) {
        if (chosen !== null || typeof theme.path !== 'string') continue;
        const data = parseJsonc(await readText(this.market, install, theme.path));
        const id = themeId(install.name, index);
        monaco.editor.defineTheme(id, toMonacoTheme(data, theme.uiTheme));
        chosen = id;
      }
    }
    if (chosen !== this.theme) {
      monaco.editor.setTheme(chosen ?? DEFAULT_THEME);
      this.theme = chosen;
    }
    const wanted = new Set(enabled.filter((i) => list(i, 'snippets').length).map((i) => i.name));
    for (const [name, disposables] of this.snippets) {
      if (!wanted.has(name)) {
        disposables.forEach((d) => d.dispose());
        this.snippets.delete(name);
      }
    }
    for (const install of enabled) {
      if (!wanted.has(install.name) || this.snippets.has(install.name)) continue;
      const disposables: monaco.IDisposable[] = [];
      this.snippets.set(install.name, disposables);
      for (const item of list(install, 'snippets')) {
        if (typeof item.path !== 'string') continue;
        const snippets = parseSnippets(parseJsonc(await readText(this.market, install, item.path)));
        const language = typeof item.language === 'string' ? item.language : 'plaintext';
        disposables.push(
          monaco.languages.registerCompletionItemProvider(language, {
            provideCompletionItems: (model, position) => {
              const word = model.getWordUntilPosition(position);
              const range = new monaco.Range(
                position.lineNumber,
                word.startColumn,
                position.lineNumber,
                word.endColumn,
              );
              return {
                suggestions: snippets.map((s) => ({
                  label: s.prefix,
                  kind: monaco.languages.CompletionItemKind.Snippet,
                  detail: s.label,
                  documentation: s.description,
                  insertText: s.body,
                  insertTextRules: monaco.languages.CompletionItemInsertTextRule.InsertAsSnippet,
                  range,
                })),
              };
            },
          }),
        );
      }
    }
  }
}
