/** "Run in sandbox": a code file's text through the judge API, output shown in a panel. */
import { Widget } from '@lumino/widgets';
import { messageOf, type IdeApi, type Run } from './api';
import { waitForRun } from './poll';
import { languageOf } from './languages';

function part(className: string, testId: string, label: string): HTMLElement {
  const box = document.createElement('section');
  box.className = `jp-IdeRun-part ${className}`;
  const head = document.createElement('h4');
  head.textContent = label;
  const body = document.createElement('pre');
  body.dataset.testid = testId;
  box.append(head, body);
  return box;
}

/** The panel of the last run: file, verdict, stdout, stderr (compiler output included). */
export class RunPanel extends Widget {
  private readonly heading = document.createElement('div');
  private readonly verdict = document.createElement('div');
  private readonly stdout = part('jp-IdeRun-stdout', 'ide-run-stdout', 'Output');
  private readonly stderr = part('jp-IdeRun-stderr', 'ide-run-stderr', 'Errors');

  constructor() {
    super();
    this.id = 'jupyter-ide-run';
    this.addClass('jp-IdeRun');
    this.title.label = 'Sandbox run';
    this.title.closable = true;
    this.heading.className = 'jp-IdeRun-heading';
    this.verdict.className = 'jp-IdeRun-verdict';
    this.verdict.dataset.testid = 'ide-run-verdict';
    this.node.append(this.heading, this.verdict, this.stdout, this.stderr);
  }

  private fill(box: HTMLElement, text: string): void {
    box.hidden = !text;
    const pre = box.querySelector('pre');
    if (pre) {
      pre.textContent = text;
    }
  }

  /** Run ``source`` (the text of ``path``) in the sandbox and show what it printed. */
  async runFile(api: IdeApi, path: string, source: string): Promise<Run | null> {
    const language = languageOf(path);
    this.heading.textContent = language ? `${path} (${language.name})` : path;
    this.fill(this.stdout, '');
    this.fill(this.stderr, '');
    if (!language) {
      this.setVerdict(
        'error',
        `${path}: the sandbox runs .py, .c, .cpp, .java, .js, .go, .rs and .sh files`,
      );
      return null;
    }
    this.setVerdict('pending', 'Running in the sandbox…');
    try {
      const run = await waitForRun(api, await api.submit(source, language.id));
      const ok = run.statusId === 3;
      this.setVerdict(ok ? 'ok' : 'error', run.time ? `${run.status} · ${run.time} s` : run.status);
      this.fill(this.stdout, run.stdout);
      this.fill(
        this.stderr,
        [run.compileOutput, run.stderr, run.message].filter((t) => t.trim()).join('\n'),
      );
      return run;
    } catch (error) {
      this.setVerdict('error', await messageOf(error));
      return null;
    }
  }

  private setVerdict(kind: string, text: string): void {
    this.verdict.textContent = text;
    this.verdict.dataset.kind = kind;
  }
}
