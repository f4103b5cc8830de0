// vitest global setup for the e2e suite: one real local control plane per test run (tests get a fresh
// namespace each). Knobs:
//   JOBHERALD_E2E_REUSE=1        reuse the running `dev` cluster instead of starting one (fast iteration)
//   JOBHERALD_E2E_NO_CLUSTER=1   start nothing (for e2e files that need only a browser or the emulator)
//   JOBHERALD_E2E_FROM_SOURCE=1  run the operator from src/ instead of the bundle `npm run build` ships
//   JOBHERALD_E2E_CLUSTER=name   the control plane's name (default e2e): two checkouts can run e2e at once
// The operator processes run what ships (dist/, built here first); the other CLI commands run from src/.
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { down, readState, up, type ClusterState } from '../../src/dev/cluster/control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** the cluster's name and kubeconfig; empty when JOBHERALD_E2E_NO_CLUSTER is set */
    clusterName: string;
    kubeconfig: string;
  }
}

export const E2E_CLUSTER = process.env.JOBHERALD_E2E_CLUSTER ?? 'e2e';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.JOBHERALD_E2E_NO_CLUSTER === '1') {
    project.provide('clusterName', '');
    project.provide('kubeconfig', '');
    return undefined;
  }
  if (process.env.JOBHERALD_E2E_FROM_SOURCE !== '1') {
    execFileSync(process.execPath, ['scripts/build.ts'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  let state: ClusterState | undefined;
  if (process.env.JOBHERALD_E2E_REUSE === '1') {
    state = readState('dev');
    if (state === undefined)
      throw new Error('JOBHERALD_E2E_REUSE=1 but no `dev` cluster runs: jobherald dev-cluster up');
  } else {
    state = await up({
      name: E2E_CLUSTER,
      log: (line) => process.stderr.write(`[e2e control plane] ${line}\n`),
    });
  }
  project.provide('clusterName', state.name);
  project.provide('kubeconfig', state.kubeconfig);
  if (process.env.JOBHERALD_E2E_REUSE === '1') return undefined;
  return async () => {
    await down(E2E_CLUSTER);
  };
}
