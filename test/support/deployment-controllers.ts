// e2e support: a second kube-controller-manager on the e2e cluster running only the deployment and ReplicaSet
// controllers (the cluster's own runs neither, so a chart's Deployment would never get Pods; kwok runs them).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { clusterState } from './kube.ts';

/**
 * A second kube-controller-manager on the e2e cluster running only the deployment and ReplicaSet
 * controllers, with the admin kubeconfig and no listener so that a chart's Deployment gets its ReplicaSet and Pods, which kwok runs and reports Ready.
 */
export function startDeploymentControllers(logDir: string): { child: ChildProcess; log: string } {
  const state = clusterState();
  mkdirSync(logDir, { recursive: true });
  const log = join(logDir, 'kube-controller-manager.log');
  const out = openSync(log, 'a');
  try {
    const child = spawn(
      join(state.binaries, 'kube-controller-manager'),
      [
        `--kubeconfig=${state.kubeconfig}`,
        '--leader-elect=false',
        '--controllers=deployment,replicaset',
        '--secure-port=0',
        '--v=1',
      ],
      { stdio: ['ignore', out, out] },
    );
    return { child, log };
  } finally {
    closeSync(out);
  }
}

/** SIGTERM, SIGKILL after 5 s; resolves once the child has exited. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(killer);
}
