/** What the plugins share: the chosen course, the AI policy in force, the model to use. */
import { Signal, type ISignal } from '@lumino/signaling';
import { messageOf, type IdeApi, type Policy } from './api';

const COURSE_KEY = 'jupyter-ide:jupyterlab:course';
const MODEL_KEY = 'jupyter-ide:jupyterlab:model';

/** The AI state every plugin reads; ``changed`` fires when any of it changes. */
export class AIState {
  policy: Policy | null = null;
  models: string[] = [];
  model: string | null = null;
  /** Why the assistant cannot be used now (no provider, not signed in), or null. */
  unavailable: string | null = null;
  private readonly changedSignal = new Signal<this, void>(this);
  private refreshing: Promise<void> | null = null;

  constructor(readonly api: IdeApi) {
    api.course = window.localStorage.getItem(COURSE_KEY) || null;
    this.model = window.localStorage.getItem(MODEL_KEY) || null;
  }

  /** Use ``model`` for the chat and completions from now on (kept for the next visit). */
  setModel(model: string): void {
    if (this.models.includes(model)) {
      this.model = model;
      window.localStorage.setItem(MODEL_KEY, model);
      this.changedSignal.emit();
    }
  }

  /** Fires after a refresh or a course change. */
  get changed(): ISignal<this, void> {
    return this.changedSignal;
  }

  /** Make later AI and judge calls in ``course`` (null: let the server decide), and refresh. */
  async setCourse(course: string | null): Promise<void> {
    this.api.course = course || null;
    if (course) {
      window.localStorage.setItem(COURSE_KEY, course);
    } else {
      window.localStorage.removeItem(COURSE_KEY);
    }
    await this.refresh();
  }

  /** Read the policy and the models again (one refresh at a time). */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.load().finally(() => {
        this.refreshing = null;
        this.changedSignal.emit();
      });
    }
    return this.refreshing;
  }

  private async load(): Promise<void> {
    try {
      this.policy = await this.api.policy();
      if (this.api.course && !this.policy.courses.includes(this.api.course)) {
        // A course one left (or a stale choice): let the server decide again.
        this.api.course = null;
        window.localStorage.removeItem(COURSE_KEY);
        this.policy = await this.api.policy();
      }
      this.models = this.policy.mode === 'off' ? [] : await this.api.models();
      this.model =
        this.model && this.models.includes(this.model) ? this.model : (this.models[0] ?? null);
      this.unavailable =
        this.policy.mode !== 'off' && !this.model
          ? 'No AI model is configured on this server'
          : null;
    } catch (error) {
      this.unavailable = await messageOf(error);
    }
  }
}
