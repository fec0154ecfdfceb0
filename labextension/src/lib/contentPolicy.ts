/** The content policy of this page: the admin's image hosts and where a document's files are. */
import { PageConfig, URLExt } from '@jupyterlab/coreutils';
import { dirName } from './languages';
import type { ContentPolicy } from './sanitize';

/** The image origins the server allows (allowed_image_hosts), from the page config. */
export function allowedImageHosts(): string[] {
  const raw = PageConfig.getOption('allowedImageHosts');
  try {
    const hosts: unknown = JSON.parse(raw || '[]');
    return Array.isArray(hosts) ? hosts.filter((h): h is string => typeof h === 'string') : [];
  } catch {
    return [];
  }
}

/** The policy for content shown with no document around it (AI answers). */
export function pagePolicy(): ContentPolicy {
  return { imageHosts: allowedImageHosts(), filesBase: null };
}

/** The policy for a document's content: relative links and images are its folder's files. */
export function documentPolicy(path: string): ContentPolicy {
  const folder = dirName(path);
  const files = URLExt.join(PageConfig.getBaseUrl(), 'files', URLExt.encodeParts(folder));
  return {
    imageHosts: allowedImageHosts(),
    filesBase: new URL(files.endsWith('/') ? files : `${files}/`, window.location.href).href,
  };
}
