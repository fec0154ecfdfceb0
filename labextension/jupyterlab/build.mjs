// Build the federated JupyterLab extension without the jupyter CLI: @jupyterlab/builder reads
// the core's package data from a folder's package.json, so @jupyterlab/core-meta's copy goes
// into lib/core first (the build also runs inside a wheel build, where no jupyterlab is installed).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const core = join(here, 'lib', 'core');
mkdirSync(core, { recursive: true });
copyFileSync(require.resolve('@jupyterlab/core-meta/core.package.json'), join(core, 'package.json'));
const builder = require.resolve('@jupyterlab/builder/lib/build-labextension.js');
const args = [builder, '--core-path', core, ...process.argv.slice(2), here];
const result = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
process.exit(result.status ?? 1);
