/** Typed calls to the extension store (/ide/api/marketplace/...). */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { Decision, Install, Verdict } from './permissions';

/** A search result. */
export interface PackageSummary {
  name: string;
  displayName: string;
  description: string;
  category: string;
  kind: string;
  version: string | null;
  downloads: number;
  rating: number;
}

/** One version of a package, in its detail. */
export interface PackageVersion {
  version: string;
  yanked: boolean;
  served: boolean;
  permissions: string[];
  size: number;
}

/** A package's detail: its permissions, versions and manifest. */
export interface PackageDetail extends PackageSummary {
  publisher: string | null;
  blocked: string | null;
  permissions: string[];
  manifest: Record<string, unknown> | null;
  versions: PackageVersion[];
}

/** What may change on an install. */
export interface InstallChange {
  enabled?: boolean;
  granted?: string[];
  settings?: Record<string, unknown>;
  version?: string;
}

function obj(data: unknown, what: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new Error(`${what}: not an object`);
  }
  return data as Record<string, unknown>;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** Check a search result's shape. */
export function parseSummary(data: unknown): PackageSummary {
  const raw = obj(data, 'package');
  return {
    name: str(raw.name),
    displayName: str(raw.display_name) || str(raw.name),
    description: str(raw.description),
    category: str(raw.category),
    kind: str(raw.kind),
    version: strOrNull(raw.version),
    downloads: num(raw.downloads),
    rating: num(raw.rating),
  };
}

/** Check a package detail's shape. */
export function parseDetail(data: unknown): PackageDetail {
  const raw = obj(data, 'package');
  const versions = Array.isArray(raw.versions) ? raw.versions : [];
  return {
    ...parseSummary(raw),
    publisher: strOrNull(raw.publisher),
    blocked: strOrNull(raw.blocked),
    permissions: strs(raw.permissions),
    manifest:
      typeof raw.manifest === 'object' && raw.manifest !== null ? obj(raw.manifest, 'm') : null,
    versions: versions.map((v: unknown) => {
      const r = obj(v, 'version');
      return {
        version: str(r.version),
        yanked: r.yanked === true,
        served: r.served !== false,
        permissions: strs(r.permissions),
        size: num(r.size),
      };
    }),
  };
}

/** Check an install's shape. */
export function parseInstall(data: unknown): Install {
  const raw = obj(data, 'install');
  return {
    name: str(raw.name),
    displayName: str(raw.display_name) || str(raw.name),
    version: str(raw.version),
    latestVersion: strOrNull(raw.latest_version),
    enabled: raw.enabled === true,
    granted: strs(raw.granted),
    settings:
      typeof raw.settings === 'object' && raw.settings !== null ? obj(raw.settings, 's') : {},
    notice: strOrNull(raw.notice),
    lockedByCourse: strOrNull(raw.locked_by_course),
    permissions: strs(raw.permissions),
    manifest:
      typeof raw.manifest === 'object' && raw.manifest !== null ? obj(raw.manifest, 'm') : {},
    integrity: str(raw.integrity),
  };
}

/** An upload that failed the publish scan, waiting for an admin's review. */
export interface QuarantineEntry {
  id: number;
  namespace: string;
  name: string | null;
  version: string | null;
  reason: string;
  submittedBy: string;
  createdAt: string;
  status: string;
  kept: boolean;
}

/** Check a quarantine entry's shape. */
export function parseQuarantineEntry(data: unknown): QuarantineEntry {
  const raw = obj(data, 'quarantine entry');
  return {
    id: num(raw.id),
    namespace: str(raw.namespace),
    name: strOrNull(raw.name),
    version: strOrNull(raw.version),
    reason: str(raw.reason),
    submittedBy: str(raw.submitted_by),
    createdAt: str(raw.created_at),
    status: str(raw.status),
    kept: raw.kept === true,
  };
}

const VERDICTS: Verdict[] = ['allow', 'prompt', 'deny'];

/** Check the server's decision on a runtime call. */
export function parseDecision(data: unknown): Decision {
  const raw = obj(data, 'decision');
  const decision = VERDICTS.includes(raw.decision as Verdict) ? (raw.decision as Verdict) : 'deny';
  return { decision, permission: strOrNull(raw.permission), reason: str(raw.reason) };
}

/** The store's client. */
export class MarketplaceClient {
  constructor(private readonly settings: ServerConnection.ISettings) {}

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const url = URLExt.join(this.settings.baseUrl, 'ide', 'api', 'marketplace', path);
    const response = await ServerConnection.makeRequest(url, init, this.settings);
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    return response;
  }

  private async send(path: string, method: string, body: unknown): Promise<unknown> {
    const response = await this.request(path, {
      method,
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    return response.status === 204 ? null : response.json();
  }

  /** Search the store. */
  async search(q = '', category = ''): Promise<{ total: number; results: PackageSummary[] }> {
    const query = new URLSearchParams({ q, category, limit: '50' }).toString();
    const raw = obj(await (await this.request(`packages?${query}`)).json(), 'search');
    const results = Array.isArray(raw.results) ? raw.results.map(parseSummary) : [];
    return { total: num(raw.total), results };
  }

  /** One package's detail. */
  async detail(name: string): Promise<PackageDetail> {
    return parseDetail(await (await this.request(`packages/${encodeURIComponent(name)}`)).json());
  }

  /** The user's installs (course-locked ones included). */
  async installs(): Promise<Install[]> {
    const raw = obj(await (await this.request('installs')).json(), 'installs');
    return Array.isArray(raw.installs) ? raw.installs.map(parseInstall) : [];
  }

  /** Install a package, granting these permissions. */
  async install(name: string, granted: string[], version?: string): Promise<Install> {
    const body: Record<string, unknown> = { name, granted };
    if (version) {
      body.version = version;
    }
    return parseInstall(await this.send('installs', 'POST', body));
  }

  /** Change an install: enable, grants, settings, version (update). */
  async change(name: string, change: InstallChange): Promise<Install> {
    return parseInstall(await this.send(`installs/${encodeURIComponent(name)}`, 'PATCH', change));
  }

  /** Uninstall (the server refuses a course's locked extension). */
  async uninstall(name: string): Promise<void> {
    await this.request(`installs/${encodeURIComponent(name)}`, { method: 'DELETE' });
  }

  /** The server's decision on a runtime call. */
  async checkCall(name: string, method: string, params: unknown): Promise<Decision> {
    const path = `installs/${encodeURIComponent(name)}/calls`;
    return parseDecision(await this.send(path, 'POST', { method, params }));
  }

  /** The pending quarantine (admins); null when the caller may not review it. */
  async quarantine(): Promise<QuarantineEntry[] | null> {
    const url = URLExt.join(this.settings.baseUrl, 'ide', 'api', 'marketplace', 'quarantine');
    const response = await ServerConnection.makeRequest(`${url}?status=pending`, {}, this.settings);
    if (response.status === 403) {
      return null;
    }
    if (!response.ok) {
      throw new ServerConnection.ResponseError(response);
    }
    const raw = obj(await response.json(), 'quarantine');
    return Array.isArray(raw.quarantine) ? raw.quarantine.map(parseQuarantineEntry) : [];
  }

  /** Release (publish after review) or reject (delete) a quarantined upload. */
  async decideQuarantine(id: number, action: 'release' | 'reject'): Promise<void> {
    await this.send(`quarantine/${id}/${action}`, 'POST', {});
  }

  /** A version's archive bytes. */
  async download(name: string, version: string): Promise<ArrayBuffer> {
    const path = `packages/${encodeURIComponent(name)}/versions/${encodeURIComponent(version)}/download`;
    return (await this.request(path)).arrayBuffer();
  }
}
