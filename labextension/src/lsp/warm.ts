/** Start the language servers a workspace will need as /ide opens, before a file is. */
import { URLExt } from '@jupyterlab/coreutils';
import { useEffect } from 'react';
import { ServerConnection, type Contents } from '@jupyterlab/services';
import { languageForPath } from '../lib/languages';
import type { Services } from '../services';
import { lspLanguage, serverFor, type SpecInfo } from './languages';

/** Servers warmed at most per page (the server also limits starts per user). */
export const MAX_WARM = 2;
/** Sub-folders of the workspace's top level that are listed too. */
const MAX_FOLDERS = 20;

/** The keys of the servers for the most frequent languages among ``paths`` (most first). */
export function serversToWarm(
  paths: string[],
  specs: Record<string, SpecInfo>,
  max: number = MAX_WARM,
): string[] {
  const counts = new Map<string, number>();
  for (const path of paths) {
    const language = languageForPath(path);
    const key = lspLanguage(language) ? serverFor(specs, language) : null;
    if (key) {
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, max)
    .map(([key]) => key);
}

/** The file paths of the workspace's top level and of its first sub-folders. */
async function workspaceFiles(services: Services): Promise<string[]> {
  const items = async (path: string): Promise<Contents.IModel[]> => {
    const model = await services.contents.get(path, { content: true });
    return (model.content as Contents.IModel[] | null) ?? [];
  };
  const top = await items('');
  const folders = top.filter((i) => i.type === 'directory').slice(0, MAX_FOLDERS);
  const nested = await Promise.all(folders.map((f) => items(f.path).catch(() => [])));
  return [...top, ...nested.flat()].filter((i) => i.type !== 'directory').map((i) => i.path);
}

/** Ask the server to start the workspace's language servers (errors are only logged). */
export async function warmLanguageServers(services: Services): Promise<string[]> {
  const settings = services.settings;
  try {
    const status = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, 'lsp', 'status'),
      {},
      settings,
    );
    if (!status.ok) {
      return [];
    }
    const specs = ((await status.json()) as { specs?: Record<string, SpecInfo> }).specs ?? {};
    const keys = serversToWarm(await workspaceFiles(services), specs);
    if (keys.length === 0) {
      return [];
    }
    const reply = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, 'lsp', 'warm'),
      { method: 'POST', body: JSON.stringify({ languages: keys }) },
      settings,
    );
    if (!reply.ok) {
      console.info('Language servers not started ahead:', reply.status, await reply.text());
      return [];
    }
    return keys;
  } catch (e) {
    console.info('Language servers not started ahead:', e);
    return [];
  }
}

/** As the page opens, start its workspace's language servers (once per page). */
export function useLspWarm(services: Services): void {
  useEffect(() => {
    void warmLanguageServers(services);
  }, [services]);
}
