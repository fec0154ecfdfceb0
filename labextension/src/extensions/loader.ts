/** Fetch, check and unpack installed packages once per version; bundle their code. */
import { bundleModule, checkIntegrity, text, unpack, type Files } from './bundle';
import type { MarketplaceClient } from './client';
import type { Install } from './permissions';
import { entryModule } from './prelude';

const cache = new Map<string, Promise<Files>>();

/** The files of an install's version, checked against its integrity hash. */
export function filesOf(market: MarketplaceClient, install: Install): Promise<Files> {
  const key = `${install.name}@${install.version}#${install.integrity}`;
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      const data = await market.download(install.name, install.version);
      await checkIntegrity(data, install.integrity);
      return unpack(data);
    })();
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}

/** The worker entry module of an extension with code (manifest.main), or null. */
export async function codeOf(market: MarketplaceClient, install: Install): Promise<string | null> {
  const main = install.manifest.main;
  if (typeof main !== 'string' || !main) {
    return null;
  }
  const files = await filesOf(market, install);
  return entryModule(bundleModule(files, main.replace(/^\.\//, '')));
}

/** Read one JSON-ish text file of an install's package. */
export async function readText(
  market: MarketplaceClient,
  install: Install,
  path: string,
): Promise<string> {
  return text(await filesOf(market, install), path.replace(/^\.\//, ''));
}
