import { homedir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { packagePath } from '../../package-root.ts';

/** Everything jobherald keeps on a machine: built binaries (by version) and local clusters. */
export const cacheRoot = (): string => process.env.JOBHERALD_CACHE ?? join(homedir(), '.cache', 'jobherald');

export const clusterDir = (name: string): string => join(cacheRoot(), 'clusters', name);

/** etcd data goes to tmpfs when there is one: the data is disposable and fsync-free there. */
export const etcdDataDir = (name: string): string =>
  existsSync('/dev/shm') ? join('/dev/shm', `jobherald-${name}-etcd`) : join(clusterDir(name), 'etcd');

/** The build script ships in src/ (package.json "files"), also when the CLI runs from the bundle in dist/. */
export const buildScript = (): string => packagePath('src', 'dev', 'cluster', 'build-control-plane.sh');
