// The control-plane binaries, built once from the Go module proxy by build-control-plane.sh and cached
// by version under ~/.cache/jobherald/bin/<versions>/.
import { spawn } from 'node:child_process';
import { buildScript } from './paths.ts';

export const VERSIONS = { kubernetes: 'v1.36.3', etcd: 'v3.6.16', kwok: 'v0.8.0' } as const;

export interface Binaries {
  dir: string;
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
}

/** Returns the cached binaries, building them first if needed (progress goes to stderr). */
export function ensureBinaries(): Promise<Binaries> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript()], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        K8S_VERSION: VERSIONS.kubernetes,
        ETCD_VERSION: VERSIONS.etcd,
        KWOK_VERSION: VERSIONS.kwok,
      },
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const dir = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || dir === '') {
        reject(new Error(`building the control plane failed (exit ${code}); see the output above`));
        return;
      }
      resolve({
        dir,
        etcd: `${dir}/etcd`,
        kubeApiserver: `${dir}/kube-apiserver`,
        kubeControllerManager: `${dir}/kube-controller-manager`,
        kubeScheduler: `${dir}/kube-scheduler`,
        kwok: `${dir}/kwok`,
      });
    });
  });
}
