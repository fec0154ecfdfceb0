/** One typed client for jupyter-ide's own endpoints (/ide/api/*). */
import { URLExt } from '@jupyterlab/coreutils';
import {
  parseDashboard,
  parseTimeline,
  parseVersions,
  type LabDashboard,
  type ReplayVersion,
  type Timeline,
} from '../lib/activity';
import { ServerConnection } from '@jupyterlab/services';
import { parseLivePairs, type LivePairs } from '../lib/livePairs';
import {
  parseAssignment,
  parseAssignments,
  parseFetch,
  parseGradebook,
  parseGradedSubmission,
  parseExtension,
  parseGradedSubmissions,
  parseMerge,
  parseMergeResult,
  parseRelease,
  parseReopen,
  parseSubmission as parseAssignmentSubmission,
  parseSubmissions as parseAssignmentSubmissions,
  type Assignment,
  type AssignmentSubmission,
  type ExtensionGrant,
  type FetchResult,
  type Gradebook,
  type GradedSubmission,
  type LineComment,
  type MergeChoice,
  type MergeResult,
  type MergeVersions,
  type ReleaseReport,
  type ReopenResult,
} from '../lib/assignments';
import { encodeText, parseSubmission, type Submission } from '../lib/judge';
import {
  parseKernelSandbox,
  parseSandbox,
  type KernelSandbox,
  type SandboxInfo,
} from '../lib/sandbox';
import {
  parseLiveFiles,
  parseLiveMembers,
  parseLiveRuns,
  type LiveEntry,
  type LiveMember,
  type LiveRun,
} from '../lib/live';
import { readChatStream, type ChatEvent } from '../lib/sse';
import {
  parseHelpFile,
  parseHelpRequest,
  parseHelpView,
  parseTranscripts,
  type HelpFile,
  type HelpRequest,
  type HelpView,
  type Transcripts,
} from '../lib/teaching';

export type SubsystemState = 'ok' | 'off' | 'missing' | 'broken';

export interface Subsystem {
  state: SubsystemState;
  detail: string;
}

export interface Health {
  version: string;
  subsystems: Record<string, Subsystem>;
}

const STATES: SubsystemState[] = ['ok', 'off', 'missing', 'broken'];

/** Check the shape of a health answer; throw on anything unexpected. */
export function parseHealth(data: unknown): Health {
  if (typeof data !== 'object' || data === null) {
    throw new Error('health: not an object');
  }
  const raw = data as { version?: unknown; subsystems?: unknown };
  if (typeof raw.subsystems !== 'object' || raw.subsystems === null) {
    throw new Error('health: no subsystems');
  }
  const subsystems: Record<string, Subsystem> = {};
  for (const [name, value] of Object.entries(raw.subsystems as Record<string, unknown>)) {
    const item = (typeof value === 'object' && value !== null ? value : {}) as {
      state?: unknown;
      detail?: unknown;
    };
    const state = STATES.includes(item.state as SubsystemState)
      ? (item.state as SubsystemState)
      : 'broken';
    subsystems[name] = { state, detail: String(item.detail ?? '') };
  }
  return { version: String(raw.version ?? ''), subsystems };
}

/** Read the machine-readable code of an error answer ({"error": {"code"}}), if it has one. */
export async function errorCode(error: unknown): Promise<string | null> {
  if (!(error instanceof ServerConnection.ResponseError)) {
    return null;
  }
  try {
    const body = (await error.response.clone().json()) as { error?: { code?: unknown } };
    return typeof body.error?.code === 'string' ? body.error.code : null;
  } catch {
    return null;
  }
}

/** Read the message of an error answer from the server, for people. */
export async function errorMessage(error: unknown): Promise<string> {
  if (error instanceof ServerConnection.ResponseError) {
    try {
      const body = (await error.response.clone().json()) as { message?: string };
      if (body.message) {
        return body.message;
      }
    } catch {
      // Not JSON: fall back to the error's own message.
    }
    return error.message || `${error.response.status} ${error.response.statusText}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A refused call, for people: its status, the server's message, and Retry-After (seconds). */
export interface Refusal {
  status: number | null;
  message: string;
  retryAfter: number | null;
}

/** Read a refusal: the status and message, and the Retry-After header a 429 carries. */
export async function refusal(error: unknown): Promise<Refusal> {
  const message = await errorMessage(error);
  if (!(error instanceof ServerConnection.ResponseError)) {
    return { status: null, message, retryAfter: null };
  }
  const header = error.response.headers.get('Retry-After');
  const seconds = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : null;
  return { status: error.response.status, message, retryAfter: seconds };
}

export type AIMode = 'off' | 'hint' | 'full';

/** The AI policy in force for the caller now (GET /ide/api/ai/policy). */
export interface AIPolicy {
  /** The course whose rules apply, or null (none, or the strictest of several). */
  course: string | null;
  /** Every course the caller is in. */
  courses: string[];
  mode: AIMode;
  until: string | null;
  reason: string | null;
  models: string[];
  /** No course named: the courses whose strictest rules are combined (empty otherwise). */
  strictestOf: string[];
}

/** A course the caller can see (GET /ide/api/courses); ``myRole`` null when not a member. */
export interface Course {
  name: string;
  title: string;
  myRole: string | null;
}

/** Who the caller is (GET /ide/api/auth/me): the server's stable name and the role. */
export interface Me {
  name: string;
  role: string;
}

/** The request header that names the course a request is made in. */
export const COURSE_HEADER = 'X-IDE-Course';

export interface QuotaLimit {
  name: string;
  used: number;
  limit: number;
  ratio: number;
  resetsAt: string | null;
}

/** The caller's own AI usage and limits (GET /ide/api/ai/usage). */
export interface AIUsage {
  totalTokens: number;
  requests: number;
  limits: QuotaLimit[];
  warning: string | null;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
  stop?: string[];
}

/** A started streaming answer: its events, and what the server said about quotas and mode. */
export interface ChatStream {
  events: AsyncGenerator<ChatEvent, void, undefined>;
  warning: string | null;
  mode: string | null;
}

/** One kept version of a file (GET /ide/api/history). */
export interface FileVersion {
  id: number;
  path: string;
  hash: string;
  size: number;
  modifiedAt: string;
  createdAt: string;
  reason: string;
}

/** A file's versions, newest first, and its current state (null when deleted). */
export interface FileHistory {
  path: string;
  current: { hash: string; size: number; lastModified: string } | null;
  versions: FileVersion[];
}

/** A version with its bytes: text, or base64 for a binary file. */
export interface VersionContent extends FileVersion {
  format: 'text' | 'base64';
  content: string;
}

/** A program to run (Judge0's submission fields, plain text; the client encodes them). */
export interface RunRequest {
  source: string;
  languageId: number;
  stdin?: string;
  expectedOutput?: string;
}

const SUBMISSION_FIELDS = 'token,status,stdout,stderr,compile_output,message,time,memory,exit_code';

function submissionBody(run: RunRequest): Record<string, unknown> {
  return {
    source_code: encodeText(run.source),
    language_id: run.languageId,
    stdin: encodeText(run.stdin ?? ''),
    ...(run.expectedOutput !== undefined
      ? { expected_output: encodeText(run.expectedOutput) }
      : {}),
  };
}

/** The judge's 422 answer ({field: [messages]}) as one sentence. */
function judgeRefusal(item: Record<string, unknown>): string {
  return Object.entries(item)
    .map(
      ([field, problems]) =>
        `${field} ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`,
    )
    .join('; ');
}

const MODES: AIMode[] = ['off', 'hint', 'full'];

function asObject(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${what}: not an object`);
  }
  return data as Record<string, unknown>;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** Check the shape of a policy answer; an unknown mode counts as off. */
export function parsePolicy(data: unknown): AIPolicy {
  const raw = asObject(data, 'policy');
  return {
    course: stringOrNull(raw.course),
    courses: strings(raw.courses),
    mode: MODES.includes(raw.mode as AIMode) ? (raw.mode as AIMode) : 'off',
    until: stringOrNull(raw.until),
    reason: stringOrNull(raw.reason),
    models: strings(raw.models),
    strictestOf: strings(raw.strictest_of),
  };
}

/** Read the courses of a /courses answer; entries without a name are left out. */
export function parseCourses(data: unknown): Course[] {
  const raw = asObject(data, 'courses');
  return (Array.isArray(raw.courses) ? raw.courses : []).flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) {
      return [];
    }
    const c = item as Record<string, unknown>;
    const name = stringOrNull(c.name);
    return name
      ? [
          {
            name,
            title: typeof c.title === 'string' ? c.title : '',
            myRole: stringOrNull(c.my_role),
          },
        ]
      : [];
  });
}

/** Read who the caller is. */
export function parseMe(data: unknown): Me {
  const raw = asObject(data, 'me');
  const name = stringOrNull(raw.name);
  if (!name) {
    throw new Error('me: no name');
  }
  return { name, role: String(raw.role ?? '') };
}

/** Check the shape of a usage answer: totals and the caller's quota limits. */
export function parseUsage(data: unknown): AIUsage {
  const raw = asObject(data, 'usage');
  const totals = (typeof raw.totals === 'object' && raw.totals !== null ? raw.totals : {}) as {
    total_tokens?: unknown;
    requests?: unknown;
  };
  const quota = (typeof raw.quota === 'object' && raw.quota !== null ? raw.quota : {}) as {
    limits?: unknown;
    warning?: unknown;
  };
  const limits = (Array.isArray(quota.limits) ? quota.limits : []).flatMap((item: unknown) => {
    if (typeof item !== 'object' || item === null) {
      return [];
    }
    const l = item as Record<string, unknown>;
    const used = Number(l.used ?? 0);
    const limit = Number(l.limit ?? 0);
    return [
      {
        name: String(l.name ?? ''),
        used,
        limit,
        ratio: Number(l.ratio ?? (limit > 0 ? used / limit : 0)),
        resetsAt: stringOrNull(l.resets_at),
      },
    ];
  });
  return {
    totalTokens: Number(totals.total_tokens ?? 0),
    requests: Number(totals.requests ?? 0),
    limits,
    warning: stringOrNull(quota.warning),
  };
}

/** Read the model names of a /v1/models answer. */
export function parseModels(data: unknown): string[] {
  const raw = asObject(data, 'models');
  return (Array.isArray(raw.data) ? raw.data : []).flatMap((m: unknown) =>
    typeof m === 'object' && m !== null && typeof (m as { id?: unknown }).id === 'string'
      ? [(m as { id: string }).id]
      : [],
  );
}

function parseVersion(data: unknown): FileVersion {
  const raw = asObject(data, 'version');
  const id = Number(raw.id);
  if (!Number.isInteger(id)) {
    throw new Error('version: no id');
  }
  return {
    id,
    path: String(raw.path ?? ''),
    hash: String(raw.hash ?? ''),
    size: Number(raw.size ?? 0),
    modifiedAt: String(raw.modified_at ?? ''),
    createdAt: String(raw.created_at ?? ''),
    reason: String(raw.reason ?? ''),
  };
}

/** Check the shape of a history answer. */
export function parseHistory(data: unknown): FileHistory {
  const raw = asObject(data, 'history');
  const current =
    typeof raw.current === 'object' && raw.current !== null
      ? (raw.current as Record<string, unknown>)
      : null;
  return {
    path: String(raw.path ?? ''),
    current: current
      ? {
          hash: String(current.hash ?? ''),
          size: Number(current.size ?? 0),
          lastModified: String(current.last_modified ?? ''),
        }
      : null,
    versions: (Array.isArray(raw.versions) ? raw.versions : []).map(parseVersion),
  };
}

/** Check the shape of one version with its content. */
export function parseVersionContent(data: unknown): VersionContent {
  const raw = asObject(data, 'version');
  return {
    ...parseVersion(raw),
    format: raw.format === 'base64' ? 'base64' : 'text',
    content: String(raw.content ?? ''),
  };
}

/** Calls to /ide/api/*, with the server's auth and XSRF handling. */
export class IdeClient {
  private chosenCourse: string | null = null;

  constructor(private readonly settings: ServerConnection.ISettings) {}

  /** The server connection's settings (the live view's sockets use them). */
  get serverSettings(): ServerConnection.ISettings {
    return this.settings;
  }

  /** The course AI and judge calls are made in, or null to let the server decide. */
  get course(): string | null {
    return this.chosenCourse;
  }

  /** Make the next AI and judge calls in ``course`` (null: name none). */
  setCourse(course: string | null): void {
    this.chosenCourse = course || null;
  }

  /** The header naming the chosen course, for the calls the server counts per course. */
  private courseHeaders(): Record<string, string> {
    return this.chosenCourse ? { [COURSE_HEADER]: this.chosenCourse } : {};
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'ide', 'api', path);
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    return response;
  }

  private async getJSON(path: string, headers: Record<string, string> = {}): Promise<unknown> {
    return (await this.request(path, { headers })).json();
  }

  /** GET a JSON answer, or null when the endpoint is not there (404): a feature not built. */
  private async getOptional(path: string, headers: Record<string, string> = {}): Promise<unknown> {
    try {
      return await this.getJSON(path, headers);
    } catch (e) {
      if (e instanceof ServerConnection.ResponseError && e.response.status === 404) {
        return null;
      }
      throw e;
    }
  }

  private postJSON(
    path: string,
    body: unknown,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', ...headers },
      signal,
    });
  }

  /** Each subsystem's state. */
  async health(): Promise<Health> {
    return parseHealth(await this.getJSON('health'));
  }

  /** The sandbox kernels run in, with its default limits; null where the server has none. */
  async sandbox(): Promise<SandboxInfo | null> {
    const data = await this.getOptional('sandbox');
    return data === null ? null : parseSandbox(data);
  }

  /** One kernel's sandbox, limits and last death; null for a kernel the server does not know. */
  async kernelSandbox(kernelId: string): Promise<KernelSandbox | null> {
    const data = await this.getOptional(`kernels/${encodeURIComponent(kernelId)}/sandbox`);
    return data === null ? null : parseKernelSandbox(data);
  }

  /** The courses the caller can see (admins: all; ``myRole`` says which they are in). */
  async courses(): Promise<Course[]> {
    const data = await this.getOptional('courses');
    return data === null ? [] : parseCourses(data);
  }

  /** Who the caller is, by the server's stable name. */
  async me(): Promise<Me> {
    return parseMe(await this.getJSON('auth/me'));
  }

  /** The AI models the caller may use now (in the chosen course). */
  async models(): Promise<string[]> {
    return parseModels(await this.getJSON('ai/v1/models', this.courseHeaders()));
  }

  /** The AI policy in force for the caller, or null where the server has none. */
  async aiPolicy(): Promise<AIPolicy | null> {
    const data = await this.getOptional('ai/policy', this.courseHeaders());
    return data === null ? null : parsePolicy(data);
  }

  /** The caller's own AI usage and limits (in the chosen course), or null where none is kept. */
  async aiUsage(): Promise<AIUsage | null> {
    // The ledger's readers filter by ?course=; the header names the course as everywhere.
    const query = this.chosenCourse ? `?course=${encodeURIComponent(this.chosenCourse)}` : '';
    const data = await this.getOptional(`ai/usage${query}`, this.courseHeaders());
    return data === null ? null : parseUsage(data);
  }

  /** Start a streaming chat completion; errors before the first byte (429, 403) throw. */
  async chatStream(request: ChatRequest, signal?: AbortSignal): Promise<ChatStream> {
    const response = await this.postJSON(
      'ai/v1/chat/completions',
      { ...request, stream: true, stream_options: { include_usage: true } },
      signal,
      this.courseHeaders(),
    );
    if (!response.body) {
      throw new Error('The AI answer had no body');
    }
    return {
      events: readChatStream(response.body),
      warning: response.headers.get('X-IDE-Quota-Warning'),
      mode: response.headers.get('X-IDE-AI-Mode'),
    };
  }

  /** The kept versions of a file, newest first. */
  async history(path: string): Promise<FileHistory> {
    return parseHistory(await this.getJSON(`history?path=${encodeURIComponent(path)}`));
  }

  /** One version of a file, with its content. */
  async historyVersion(id: number): Promise<VersionContent> {
    return parseVersionContent(await this.getJSON(`history/${id}`));
  }

  /** Make a version its file's current content; what it replaces is kept as a version. */
  async restoreVersion(id: number): Promise<void> {
    await this.postJSON(`history/${id}/restore`, {});
  }

  /** Submit one program to the judge; answers its token. */
  async submit(run: RunRequest, signal?: AbortSignal): Promise<string> {
    const response = await this.postJSON(
      'judge/submissions?base64_encoded=true&wait=false',
      submissionBody(run),
      signal,
      this.courseHeaders(),
    );
    const data = asObject(await response.json(), 'submission');
    if (typeof data.token !== 'string') {
      throw new Error(judgeRefusal(data) || 'The judge gave no token');
    }
    return data.token;
  }

  /** Submit up to 20 programs at once; each answer is a token or the reason it was refused. */
  async submitBatch(
    runs: RunRequest[],
    signal?: AbortSignal,
  ): Promise<({ token: string } | { error: string })[]> {
    const response = await this.postJSON(
      'judge/submissions/batch?base64_encoded=true',
      { submissions: runs.map(submissionBody) },
      signal,
      this.courseHeaders(),
    );
    const data: unknown = await response.json();
    if (!Array.isArray(data)) {
      throw new Error('The judge answered a batch with something other than a list');
    }
    return data.map((item: unknown) => {
      const raw = (typeof item === 'object' && item !== null ? item : {}) as Record<
        string,
        unknown
      >;
      return typeof raw.token === 'string'
        ? { token: raw.token }
        : { error: judgeRefusal(raw) || 'refused' };
    });
  }

  /** The state of several submissions (one, for a single run), in the order asked. */
  async submissions(tokens: string[], signal?: AbortSignal): Promise<Submission[]> {
    const query = `tokens=${tokens.map(encodeURIComponent).join(',')}`;
    const response = await this.request(
      `judge/submissions/batch?${query}&base64_encoded=true&fields=${SUBMISSION_FIELDS}`,
      { signal },
    );
    const data = asObject(await response.json(), 'submissions');
    const list = Array.isArray(data.submissions) ? data.submissions : [];
    return list.map((item: unknown, i) =>
      item === null
        ? parseSubmission({
            token: tokens[i],
            status: { id: 13, description: 'Internal Error' },
            message: encodeText('This submission is not known to the judge'),
          })
        : parseSubmission(item),
    );
  }

  /** One whole (not streamed) chat completion's text. */
  async complete(request: ChatRequest, signal?: AbortSignal): Promise<string> {
    const response = await this.postJSON(
      'ai/v1/chat/completions',
      request,
      signal,
      this.courseHeaders(),
    );
    const data = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
    const content = data.choices?.[0]?.message?.content;
    return typeof content === 'string' ? content : '';
  }

  /** The path of an assignment (or of its parts) under /ide/api/courses/. */
  private assignmentPath(course: string, name?: string, ...rest: (string | number)[]): string {
    const parts = [course, 'assignments', ...(name === undefined ? [] : [name]), ...rest];
    return `courses/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
  }

  /** The course's assignments the caller may see (students: released ones, own deadlines). */
  async assignments(course: string): Promise<Assignment[]> {
    return parseAssignments(await this.getJSON(this.assignmentPath(course)));
  }

  /** One assignment as the caller may see it (with a re-release notice when there is one). */
  async assignment(course: string, name: string): Promise<Assignment> {
    return parseAssignment(await this.getJSON(this.assignmentPath(course, name)));
  }

  /** Get (or update) one's own copy; it lands in one's workspace under ``folder``. */
  async fetchAssignment(course: string, name: string): Promise<FetchResult> {
    const response = await this.postJSON(this.assignmentPath(course, name, 'fetch'), {});
    return parseFetch(await response.json());
  }

  /** Submit one's copy as it is now (429 past the limit, 403 past the cut-off, 409 no copy). */
  async submitAssignment(course: string, name: string): Promise<AssignmentSubmission> {
    const response = await this.postJSON(this.assignmentPath(course, name, 'submissions'), {});
    return parseAssignmentSubmission(await response.json());
  }

  /** One's own submissions of an assignment, newest first. */
  async assignmentSubmissions(course: string, name: string): Promise<AssignmentSubmission[]> {
    return parseAssignmentSubmissions(
      await this.getJSON(this.assignmentPath(course, name, 'submissions')),
    );
  }

  /** One submission with its results, as visibility allows (the server filters them). */
  async assignmentSubmission(
    course: string,
    name: string,
    id: number,
  ): Promise<AssignmentSubmission> {
    return parseAssignmentSubmission(
      await this.getJSON(this.assignmentPath(course, name, 'submissions', id)),
    );
  }

  /** Put a submission's files back into one's copy (what it replaces is kept in history). */
  async reopenSubmission(course: string, name: string, id: number): Promise<ReopenResult> {
    const response = await this.postJSON(
      this.assignmentPath(course, name, 'submissions', id, 'reopen'),
      {},
    );
    return parseReopen(await response.json());
  }

  /** Instructors: give every student of the course the assignment's current version. */
  async releaseAssignment(course: string, name: string): Promise<ReleaseReport> {
    const response = await this.postJSON(this.assignmentPath(course, name, 'release'), {});
    return parseRelease(await response.json());
  }

  /** Instructors: release (or withdraw) an assignment's feedback to its students. */
  async publishFeedback(course: string, name: string, published: boolean): Promise<void> {
    await this.request(this.assignmentPath(course, name, 'feedback'), {
      method: 'PUT',
      body: JSON.stringify({ published }),
      headers: { 'Content-Type': 'application/json' },
    });
  }

  /** Instructors: the course's gradebook. */
  async gradebook(course: string): Promise<Gradebook> {
    return parseGradebook(await this.getJSON(this.assignmentPath(course, 'gradebook')));
  }

  /** Instructors: the course's gradebook as CSV text. */
  async gradebookCsv(course: string): Promise<string> {
    return (await this.request(`${this.assignmentPath(course, 'gradebook')}?format=csv`)).text();
  }

  /** Instructors: make an assignment from a folder of their workspace (not yet released). */
  async createAssignment(course: string, body: Record<string, unknown>): Promise<Assignment> {
    const response = await this.postJSON(this.assignmentPath(course), body);
    return parseAssignment(await response.json());
  }

  /** Instructors: every student's submissions of an assignment (or one student's). */
  async gradedSubmissions(course: string, name: string, student = ''): Promise<GradedSubmission[]> {
    const query = student ? `?student=${encodeURIComponent(student)}` : '';
    return parseGradedSubmissions(
      await this.getJSON(`${this.assignmentPath(course, name, 'submissions')}${query}`),
    );
  }

  /** Instructors: store manual points (rubric items or tests) and line comments. */
  async gradeSubmission(
    course: string,
    name: string,
    id: number,
    grade: { points: Record<string, number>; comments: LineComment[] },
  ): Promise<GradedSubmission> {
    const response = await this.request(
      this.assignmentPath(course, name, 'submissions', id, 'grade'),
      {
        method: 'PUT',
        body: JSON.stringify(grade),
        headers: { 'Content-Type': 'application/json' },
      },
    );
    return parseGradedSubmission(await response.json());
  }

  /** Instructors: grade a submission (or ``'all'``) again (manual points stay). */
  async regradeSubmission(course: string, name: string, id: number | 'all'): Promise<void> {
    await this.postJSON(this.assignmentPath(course, name, 'submissions', id, 'regrade'), {});
  }

  // -- live teaching: the help queue and AI transcripts (/ide/api/courses/<course>/...) --

  /** The path of a course's help queue (or of one request's parts). */
  private helpPath(course: string, ...rest: (string | number)[]): string {
    const parts = [course, 'help', ...rest];
    return `courses/${parts.map((p) => encodeURIComponent(String(p))).join('/')}`;
  }

  /** Instructors: the course's queue in order; students: their own request and place. */
  async helpQueue(course: string, closed = false): Promise<HelpView> {
    const query = closed ? '?closed=1' : '';
    return parseHelpView(await this.getJSON(`${this.helpPath(course)}${query}`));
  }

  /** Raise one's hand (or update the raised one, keeping its place). */
  async raiseHand(
    course: string,
    request: { message: string; path?: string | null; line?: number | null },
  ): Promise<HelpRequest> {
    const body: Record<string, unknown> = { message: request.message };
    if (request.path) {
      body.path = request.path;
      if (request.line) {
        body.line = request.line;
      }
    }
    return parseHelpRequest(await (await this.postJSON(this.helpPath(course), body)).json());
  }

  /** Lower one's raised hand. */
  async lowerHand(course: string): Promise<void> {
    await this.request(this.helpPath(course), { method: 'DELETE' });
  }

  /** Instructors: close a request as resolved, or return it with a note for the student. */
  async closeHelp(
    course: string,
    id: number,
    outcome: 'resolve' | 'return',
    note = '',
  ): Promise<HelpRequest> {
    const response = await this.postJSON(this.helpPath(course, id, outcome), note ? { note } : {});
    return parseHelpRequest(await response.json());
  }

  /** Instructors: the file a request links to, as its student has it now. */
  async helpFile(course: string, id: number): Promise<HelpFile> {
    return parseHelpFile(await this.getJSON(this.helpPath(course, id, 'file')));
  }

  private livePath(course: string, ...rest: string[]): string {
    const parts = rest.map((p) => encodeURIComponent(p)).join('/');
    return `classroom/${encodeURIComponent(course)}/live/${parts}`;
  }

  /** Instructors: a course's members for the live view, with the files they have open. */
  async liveMembers(course: string): Promise<LiveMember[]> {
    return parseLiveMembers(await this.getJSON(this.livePath(course, 'members')));
  }

  /** Instructors: a member's files and folders, read-only (the view is audited). */
  async liveFiles(
    course: string,
    student: string,
  ): Promise<{ files: LiveEntry[]; open: string[] }> {
    return parseLiveFiles(await this.getJSON(this.livePath(course, student, 'files')));
  }

  /** Instructors: a member's last runs with their output. */
  async liveRuns(course: string, student: string): Promise<LiveRun[]> {
    return parseLiveRuns(await this.getJSON(this.livePath(course, student, 'runs')));
  }

  /** Whether the course lets its instructors write in a member's file (pair editing). */
  async livePairEditing(course: string): Promise<boolean> {
    const raw = (await this.getJSON(this.livePath(course, 'options'))) as {
      pair_editing?: unknown;
    };
    return raw?.pair_editing === true;
  }

  /** Instructors: turn pair editing on or off for the course. */
  async setLivePairEditing(course: string, on: boolean): Promise<void> {
    await this.request(this.livePath(course, 'options'), {
      method: 'PUT',
      body: JSON.stringify({ pair_editing: on }),
      headers: { 'Content-Type': 'application/json' },
    });
  }

  /** AI transcripts of a course: instructors every student's (or one's); students their own. */
  async transcripts(course: string, student = ''): Promise<Transcripts> {
    const query = student ? `?student=${encodeURIComponent(student)}` : '';
    return parseTranscripts(
      await this.getJSON(`courses/${encodeURIComponent(course)}/ai-transcripts${query}`),
    );
  }

  /** AI transcripts of a course as CSV or JSON Lines text, for a download. */
  async transcriptsExport(course: string, format: 'csv' | 'jsonl', student = ''): Promise<string> {
    const who = student ? `&student=${encodeURIComponent(student)}` : '';
    const path = `courses/${encodeURIComponent(course)}/ai-transcripts?format=${format}${who}`;
    return (await this.request(path)).text();
  }

  // -- activity timeline, replay and lab dashboard (lib/activity.ts) --

  /** Report an edit burst, a paste (the server finds its source) or a run's file. */
  async reportActivity(body: Record<string, unknown>): Promise<void> {
    await this.postJSON('activity/events', body, undefined, this.courseHeaders());
  }

  /** Say where one is in /ide: the course and the open file (the dashboard's presence). */
  async presence(course: string, path: string | null): Promise<void> {
    await this.postJSON('activity/presence', { course, path: path ?? '' });
  }

  /** A student's timeline in a course (instructors: any student's; students: their own). */
  async timeline(course: string, student = '', path = ''): Promise<Timeline> {
    const query = new URLSearchParams({ student, path });
    const found = await this.getJSON(`courses/${encodeURIComponent(course)}/activity?${query}`);
    return parseTimeline(found);
  }

  /** A student's timeline again, unless unchanged since ``etag`` (then null: the server
   * answered 304 after one query). Used to poll for new events. */
  async timelineIfChanged(
    course: string,
    student: string,
    etag: string | null,
  ): Promise<{ timeline: Timeline; etag: string | null } | null> {
    const query = new URLSearchParams({ student, path: '' });
    const url = URLExt.join(
      this.settings.baseUrl,
      'ide',
      'api',
      `courses/${encodeURIComponent(course)}/activity?${query}`,
    );
    const init: RequestInit = { headers: etag ? { 'If-None-Match': etag } : {} };
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    if (response.status === 304) {
      return null;
    }
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    return { timeline: parseTimeline(await response.json()), etag: response.headers.get('ETag') };
  }

  /** The course's named pairs (instructors: all; a student: their own, with ``partner``). */
  async livePairs(course: string): Promise<LivePairs> {
    return parseLivePairs(await this.getJSON(this.livePath(course, 'pairs')));
  }

  /** Instructors: pair two students of the course (each may then edit the other's files). */
  async pairStudents(course: string, a: string, b: string): Promise<void> {
    await this.request(this.livePath(course, 'pairs'), {
      method: 'POST',
      body: JSON.stringify({ students: [a, b] }),
      headers: { 'Content-Type': 'application/json' },
    });
  }

  /** Instructors: end the pair ``student`` is in. */
  async unpairStudent(course: string, student: string): Promise<void> {
    await this.request(this.livePath(course, 'pairs', student), { method: 'DELETE' });
  }

  /** The saved versions of a student's file, oldest first, to replay. */
  async replayVersions(course: string, student: string, path: string): Promise<ReplayVersion[]> {
    const query = new URLSearchParams({ student, path });
    const where = `courses/${encodeURIComponent(course)}/activity/versions?${query}`;
    return parseVersions(await this.getJSON(where));
  }

  /** One saved version's text. */
  async replayText(course: string, student: string, path: string, hash: string): Promise<string> {
    const query = new URLSearchParams({ student, path, hash });
    const where = `courses/${encodeURIComponent(course)}/activity/versions?${query}`;
    const found = (await this.getJSON(where)) as { content?: unknown };
    return String(found.content ?? '');
  }

  /** Instructors: the course's lab dashboard. */
  async labDashboard(course: string): Promise<LabDashboard> {
    return parseDashboard(await this.getJSON(`courses/${encodeURIComponent(course)}/dashboard`));
  }

  /** One submitted file's text (one's own; instructors: any of the course's). */
  async submissionFile(course: string, name: string, id: number, path: string): Promise<string> {
    const query = `?path=${encodeURIComponent(path)}`;
    const response = await this.request(
      `${this.assignmentPath(course, name, 'submissions', id, 'file')}${query}`,
    );
    return response.text();
  }

  /** Instructors: change an assignment (policy fields; ``refresh`` re-reads its folder). */
  async updateAssignment(
    course: string,
    name: string,
    body: Record<string, unknown>,
  ): Promise<Assignment> {
    const response = await this.request(this.assignmentPath(course, name), {
      method: 'PATCH',
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    return parseAssignment(await response.json());
  }

  /** Instructors: give a student their own deadline (their scores are recomputed). */
  async setExtension(
    course: string,
    name: string,
    student: string,
    dueAt: string,
  ): Promise<ExtensionGrant> {
    const response = await this.request(this.assignmentPath(course, name, 'extensions', student), {
      method: 'PUT',
      body: JSON.stringify({ due_at: dueAt }),
      headers: { 'Content-Type': 'application/json' },
    });
    return parseExtension(await response.json());
  }

  /** Instructors: remove a student's extension (the assignment's deadline holds again). */
  async dropExtension(course: string, name: string, student: string): Promise<void> {
    await this.request(this.assignmentPath(course, name, 'extensions', student), {
      method: 'DELETE',
    });
  }

  /** A kept starter file's versions: as given, one's own now, and the new release's. */
  async mergeVersions(course: string, name: string, path: string): Promise<MergeVersions> {
    const query = `?path=${encodeURIComponent(path)}`;
    return parseMerge(await this.getJSON(`${this.assignmentPath(course, name, 'merge')}${query}`));
  }

  /** Settle a kept file: keep one's own, take the new one, or save the merged text. */
  async settleMerge(
    course: string,
    name: string,
    settle: { path: string; choice: MergeChoice; content?: string; theirsHash?: string },
  ): Promise<MergeResult> {
    const body: Record<string, unknown> = { path: settle.path, choice: settle.choice };
    if (settle.content !== undefined) {
      body.content = settle.content;
    }
    if (settle.theirsHash) {
      body.theirs_hash = settle.theirsHash;
    }
    const response = await this.postJSON(this.assignmentPath(course, name, 'merge'), body);
    return parseMergeResult(await response.json());
  }

  // -- similarity checks of an assignment's submissions (instructors) --

  /** The newest similarity check of an assignment (with its progress) and the newest result. */
  async similarityStatus(course: string, name: string): Promise<SimilarityStatus> {
    return parseSimilarityStatus(
      await this.getJSON(this.assignmentPath(course, name, 'similarity')),
    );
  }

  /** Start a check of every student's latest submission (409 while one runs). */
  async startSimilarity(course: string, name: string): Promise<SimilarityRun> {
    const response = await this.postJSON(this.assignmentPath(course, name, 'similarity'), {});
    return parseSimilarityRun(await response.json());
  }

  /** A page of the newest result's pairs, most similar first. */
  async similarityPairs(
    course: string,
    name: string,
    offset = 0,
    limit = 50,
  ): Promise<SimilarityPairs> {
    const path = this.assignmentPath(course, name, 'similarity', 'pairs');
    return parseSimilarityPairs(await this.getJSON(`${path}?offset=${offset}&limit=${limit}`));
  }

  /** One pair side by side: both students' files and the matched regions. */
  async similarityPair(course: string, name: string, id: number): Promise<SimilarityDetail> {
    return parseSimilarityDetail(
      await this.getJSON(this.assignmentPath(course, name, 'similarity', 'pairs', id)),
    );
  }
}

/** A similarity check: its state and progress, and what it left out. */
export interface SimilarityRun {
  id: number;
  status: 'running' | 'done' | 'error';
  phase: string;
  done: number;
  total: number;
  percent: number;
  startedBy: string;
  createdAt: string | null;
  finishedAt: string | null;
  error: string | null;
  submissions: number;
  pairs: number;
  skipped: { student: string; path: string; reason: string }[];
}

export interface SimilarityStatus {
  run: SimilarityRun | null;
  result: SimilarityRun | null;
}

/** Two students' latest submissions, ranked; similarity of each side in 0..1. */
export interface SimilarityPair {
  id: number;
  rank: number;
  a: { student: string; submission: number };
  b: { student: string; submission: number };
  score: number;
  similarityA: number;
  similarityB: number;
}

export interface SimilarityPairs {
  run: SimilarityRun;
  stored: number;
  offset: number;
  pairs: SimilarityPair[];
}

/** A matched range of a file: characters and 1-based lines and columns (end exclusive). */
export interface SimilarityRegion {
  start: number;
  end: number;
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
}

/** One file of each side that match, with both sides' regions. */
export interface SimilarityMatch {
  pathA: string;
  pathB: string;
  similarityA: number;
  similarityB: number;
  regionsA: SimilarityRegion[];
  regionsB: SimilarityRegion[];
}

export interface SimilarityDetail extends SimilarityPair {
  filesA: Record<string, { text: string; language: string }>;
  filesB: Record<string, { text: string; language: string }>;
  matches: SimilarityMatch[];
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Check the shape of a similarity check. */
export function parseSimilarityRun(data: unknown): SimilarityRun {
  const raw = asObject(data, 'similarity check');
  const status = raw.status === 'done' || raw.status === 'error' ? raw.status : 'running';
  return {
    id: num(raw.id),
    status,
    phase: str(raw.phase),
    done: num(raw.done),
    total: num(raw.total),
    percent: num(raw.percent),
    startedBy: str(raw.started_by),
    createdAt: strOrNull(raw.created_at),
    finishedAt: strOrNull(raw.finished_at),
    error: strOrNull(raw.error),
    submissions: num(raw.submissions),
    pairs: num(raw.pairs),
    skipped: list(raw.skipped).map((s) => {
      const item = asObject(s, 'skipped file');
      return { student: str(item.student), path: str(item.path), reason: str(item.reason) };
    }),
  };
}

export function parseSimilarityStatus(data: unknown): SimilarityStatus {
  const raw = asObject(data, 'similarity state');
  return {
    run: raw.run ? parseSimilarityRun(raw.run) : null,
    result: raw.result ? parseSimilarityRun(raw.result) : null,
  };
}

function parseSide(data: unknown): { student: string; submission: number } {
  const raw = asObject(data, 'pair side');
  return { student: str(raw.student), submission: num(raw.submission) };
}

export function parseSimilarityPair(data: unknown): SimilarityPair {
  const raw = asObject(data, 'similarity pair');
  return {
    id: num(raw.id),
    rank: num(raw.rank),
    a: parseSide(raw.a),
    b: parseSide(raw.b),
    score: num(raw.score),
    similarityA: num(raw.similarity_a),
    similarityB: num(raw.similarity_b),
  };
}

export function parseSimilarityPairs(data: unknown): SimilarityPairs {
  const raw = asObject(data, 'similarity pairs');
  return {
    run: parseSimilarityRun(raw.run),
    stored: num(raw.stored),
    offset: num(raw.offset),
    pairs: list(raw.pairs).map(parseSimilarityPair),
  };
}

function parseRegion(data: unknown): SimilarityRegion {
  const raw = asObject(data, 'region');
  return {
    start: num(raw.start),
    end: num(raw.end),
    startLine: num(raw.start_line),
    startColumn: num(raw.start_column),
    endLine: num(raw.end_line),
    endColumn: num(raw.end_column),
  };
}

function parseFiles(data: unknown): Record<string, { text: string; language: string }> {
  const out: Record<string, { text: string; language: string }> = {};
  const raw = typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
  for (const [path, value] of Object.entries(raw)) {
    const file = asObject(value, 'file');
    out[path] = { text: str(file.text), language: str(file.language) };
  }
  return out;
}

export function parseSimilarityDetail(data: unknown): SimilarityDetail {
  const raw = asObject(data, 'similarity pair');
  return {
    ...parseSimilarityPair(raw),
    filesA: parseFiles(raw.files_a),
    filesB: parseFiles(raw.files_b),
    matches: list(raw.matches).map((m) => {
      const item = asObject(m, 'match');
      return {
        pathA: str(item.path_a),
        pathB: str(item.path_b),
        similarityA: num(item.similarity_a),
        similarityB: num(item.similarity_b),
        regionsA: list(item.regions_a).map(parseRegion),
        regionsB: list(item.regions_b).map(parseRegion),
      };
    }),
  };
}
