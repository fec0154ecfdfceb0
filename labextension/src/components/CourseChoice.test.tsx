import { ServerConnection } from '@jupyterlab/services';
import { act } from 'react';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COURSE_HEADER, IdeClient } from '../api/client';
import { useAIState } from '../hooks/useAIState';
import { useCourse, type CoursePlace } from '../hooks/useCourse';
import { courseKey } from '../lib/courses';
import { render, type Rendered } from '../testing/render';
import AIPanel from './AIPanel';
import { CoursePicker } from './CoursePicker';

/** A Storage of a Map, as the browser's. */
function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, String(v)),
  };
}

const SERVER = 'http://127.0.0.1:8888/';

/** A server as /ide sees it: sam studies in cs-full (full mode) and cs-hint (hint-only). */
class FakeServer {
  enrolled = ['cs-full', 'cs-hint'];
  seen: { path: string; course: string | null }[] = [];
  chat: (request: Request) => Response = () => new Response('data: [DONE]\n\n');

  fetch = async (input: RequestInfo, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(input, init);
    const path = new URL(request.url).pathname.replace(/^\/ide\/api\//, '');
    const course = request.headers.get(COURSE_HEADER);
    this.seen.push({ path, course });
    if (course && !this.enrolled.includes(course)) {
      return Response.json(
        {
          message: `You are not a member of the course '${course}'`,
          error: { code: 'not_a_member' },
        },
        { status: 403 },
      );
    }
    switch (path) {
      case 'courses':
        return Response.json({
          courses: this.enrolled.map((name) => ({ name, title: '', my_role: 'student' })),
        });
      case 'auth/me':
        return Response.json({ name: 'sam', role: 'student' });
      case 'ai/v1/models':
        return Response.json({
          data: (course === 'cs-full' ? ['echo', 'big'] : ['echo']).map((id) => ({ id })),
        });
      case 'ai/policy':
        return Response.json(this.policy(course));
      case 'ai/usage':
        return Response.json({
          quota: {
            limits: [
              {
                name: course ? `course_tokens_per_day` : 'user_tokens_per_day',
                used: course === 'cs-full' ? 100 : 7,
                limit: 1000,
              },
            ],
          },
        });
      case 'ai/v1/chat/completions':
        return this.chat(request);
      default:
        return new Response('{}', { status: 404 });
    }
  };

  policy(course: string | null) {
    const courses = this.enrolled;
    if (course === null) {
      return courses.length > 1
        ? {
            course: null,
            courses,
            mode: courses.includes('cs-hint') ? 'hint' : 'full',
            reason: null,
            strictest_of: courses,
          }
        : { course: courses[0] ?? null, courses, mode: 'full', strictest_of: [] };
    }
    return {
      course,
      courses,
      mode: course === 'cs-hint' ? 'hint' : 'full',
      reason: course === 'cs-hint' ? 'Course policy of cs-hint' : null,
      strictest_of: [],
    };
  }

  client(): IdeClient {
    return new IdeClient(ServerConnection.makeSettings({ baseUrl: SERVER, fetch: this.fetch }));
  }
}

function Harness({ client, place }: { client: IdeClient; place: CoursePlace }) {
  const courses = useCourse(client, place);
  const ai = useAIState(client, {
    course: courses.course,
    ready: courses.ready,
    onRefused: courses.reload,
  });
  return (
    <>
      <CoursePicker courses={courses.courses} course={courses.course} onChoose={courses.choose} />
      <AIPanel
        client={client}
        ai={ai}
        course={courses.course}
        courseReady={courses.ready}
        getEditor={() => null}
        lastError={null}
        request={null}
        inline={false}
        onInline={() => undefined}
        notify={() => undefined}
      />
    </>
  );
}

async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) {
    await act(async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
  }
}

async function pick(view: Rendered, course: string) {
  const select = view.byTestId('course-picker') as HTMLSelectElement;
  await act(async () => {
    select.value = course;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await settle();
}

const text = (view: Rendered, id: string) => view.byTestId(id)?.textContent ?? null;
const models = (view: Rendered) =>
  [...(view.byTestId('ai-model') as HTMLSelectElement).options].map((o) => o.value);

beforeAll(() => {
  // jsdom lays nothing out: the chat log's scrolling is a no-op here.
  Element.prototype.scrollTo ??= () => undefined;
});

let views: Rendered[] = [];
afterEach(async () => {
  for (const view of views) {
    await view.unmount();
  }
  views = [];
});

async function mount(server: FakeServer, storage: Storage, client = server.client()) {
  const place = { server: SERVER, workspace: 'default', storage };
  const view = await render(<Harness client={client} place={place} />);
  views.push(view);
  await settle();
  return { view, client };
}

describe('choosing the course', () => {
  it('starts with the strictest of all, then follows the picked course everywhere', async () => {
    const server = new FakeServer();
    const storage = memoryStorage();
    const { view, client } = await mount(server, storage);
    expect(text(view, 'ai-policy-mode')).toBe('AI is in hint-only mode');
    expect(text(view, 'ai-policy-strictest')).toContain(
      'Strictest of your courses: cs-full, cs-hint',
    );
    expect(models(view)).toEqual(['echo']);
    expect(text(view, 'usage-meter')).toContain('tokens per day: 7 / 1000');
    // Nothing was asked of the AI before the courses were known.
    const firstAI = server.seen.findIndex((s) => s.path.startsWith('ai/'));
    expect(server.seen.slice(0, firstAI).map((s) => s.path)).toEqual(['courses', 'auth/me']);

    server.seen = [];
    await pick(view, 'cs-full');
    expect(client.course).toBe('cs-full');
    expect(text(view, 'ai-policy-mode')).toBe('AI is in full mode for cs-full');
    expect(view.byTestId('ai-policy-strictest')).toBeNull();
    expect(models(view)).toEqual(['echo', 'big']);
    expect(text(view, 'usage-meter')).toContain('tokens per day: 100 / 1000');
    const refreshed = server.seen.filter((s) => s.course === 'cs-full').map((s) => s.path);
    expect(new Set(refreshed)).toEqual(new Set(['ai/v1/models', 'ai/policy', 'ai/usage']));
    expect(storage.getItem(courseKey(SERVER, 'sam', 'default'))).toBe('cs-full');

    await pick(view, 'cs-hint');
    expect(text(view, 'ai-policy-mode')).toBe('AI is in hint-only mode (Course policy of cs-hint)');
    await pick(view, '');
    expect(client.course).toBeNull();
    expect(storage.getItem(courseKey(SERVER, 'sam', 'default'))).toBeNull();
    expect(text(view, 'ai-policy-strictest')).toContain('Strictest of your courses');
  });

  it('remembers the choice for the workspace, and asks in it from the first call', async () => {
    const server = new FakeServer();
    const storage = memoryStorage();
    storage.setItem(courseKey(SERVER, 'sam', 'default'), 'cs-full');
    storage.setItem(courseKey(SERVER, 'sam', 'other-workspace'), 'cs-hint');
    const { view, client } = await mount(server, storage);
    expect((view.byTestId('course-picker') as HTMLSelectElement).value).toBe('cs-full');
    expect(client.course).toBe('cs-full');
    expect(text(view, 'ai-policy-mode')).toBe('AI is in full mode for cs-full');
    const ai = server.seen.filter((s) => s.path.startsWith('ai/'));
    expect(ai.length).toBeGreaterThan(0);
    expect(ai.every((s) => s.course === 'cs-full')).toBe(true);
  });

  it('shows no picker and names no course with one course or none', async () => {
    for (const enrolled of [['cs-full'], []]) {
      const server = new FakeServer();
      server.enrolled = enrolled;
      const storage = memoryStorage();
      storage.setItem(courseKey(SERVER, 'sam', 'default'), 'cs-hint');
      const { view, client } = await mount(server, storage);
      expect(view.byTestId('course-picker')).toBeNull();
      expect(client.course).toBeNull();
      expect(server.seen.every((s) => s.course === null)).toBe(true);
      expect(server.seen.map((s) => s.path)).not.toContain('auth/me');
    }
  });

  it('forgets a course the user has left, when the server refuses it', async () => {
    const server = new FakeServer();
    server.enrolled = ['cs-full', 'cs-hint', 'cs-old'];
    const storage = memoryStorage();
    const { view, client } = await mount(server, storage);
    server.enrolled = ['cs-full', 'cs-old']; // removed from cs-hint while the page is open
    // The policy of cs-hint is refused (403 not_a_member): the courses are loaded again.
    await pick(view, 'cs-hint');
    await settle();
    expect(client.course).toBeNull();
    const options = [...(view.byTestId('course-picker') as HTMLSelectElement).options];
    expect(options.map((o) => o.value)).toEqual(['', 'cs-full', 'cs-old']);
    expect(storage.getItem(courseKey(SERVER, 'sam', 'default'))).toBeNull();
  });
});

describe('a conversation the server will not continue', () => {
  it('offers "Start a new conversation", which clears it and keeps the question', async () => {
    const server = new FakeServer();
    const storage = memoryStorage();
    const { view } = await mount(server, storage);
    server.chat = () =>
      Response.json(
        {
          message:
            'AI is in hint-only mode: message 2 is an assistant reply this server did not ' +
            'give you. Start a new conversation, or send earlier replies unchanged.',
          error: { type: 'permission_error', code: 'assistant_turn_not_served' },
        },
        { status: 403 },
      );
    const input = view.byTestId('chat-input') as HTMLTextAreaElement;
    const ask = async (question: string) => {
      await act(async () => {
        const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value');
        setter?.set?.call(input, question);
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await act(async () => view.byTestId('chat-send')?.click());
      await settle();
    };
    await ask('why is my loop wrong?');
    expect(text(view, 'chat-error')).toContain('Start a new conversation');
    const restart = view.byTestId('chat-new-conversation');
    expect(restart?.textContent).toBe('Start a new conversation');
    await act(async () => restart?.click());
    expect(view.container.querySelectorAll('[data-testid^="chat-user"]')).toHaveLength(0);
    expect(view.byTestId('chat-error')).toBeNull();
    expect(input.value).toBe('why is my loop wrong?');

    // Other refusals (a quota reached) offer no new conversation: it would not help.
    server.chat = () =>
      Response.json(
        { message: 'Limit reached: user tokens per day', error: { code: 'user_tokens_per_day' } },
        { status: 429 },
      );
    await ask('again');
    expect(text(view, 'chat-error')).toContain('Limit reached');
    expect(view.byTestId('chat-new-conversation')).toBeNull();
  });
});
