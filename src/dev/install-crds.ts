// Applies jobherald's CRDs (crds/*.yaml) to a cluster and waits until the API server serves them. Used by
// the demo and the e2e suite; users install through Helm or deploy/jobherald.yaml.
//
// The CRDs go to the API server as the raw JSON of the YAML, by server-side apply: client-node's typed
// models would silently drop `enum`, `default` and every `x-kubernetes-*` key (the CEL rules) on the way.
import { readFileSync, readdirSync } from 'node:fs';
import { packagePath } from '../package-root.ts';
import { join } from 'node:path';
import { load } from 'js-yaml';
import type { KubeConnection } from '../kube/connection.ts';

export const CRD_DIR = packagePath('crds');

export interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

export function readCrds(dir = CRD_DIR): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => load(readFileSync(join(dir, f), 'utf8')) as Crd);
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export async function installCrds(
  connection: KubeConnection,
  opts: { dir?: string; timeoutMs?: number } = {},
) {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  for (const crd of readCrds(opts.dir)) {
    const path = `${CRD_PATH}/${crd.metadata.name}`;
    await connection.json('PATCH', path, {
      query: { fieldManager: 'jobherald', force: true },
      body: crd, // JSON is YAML: the apply patch is the CRD itself
      contentType: 'application/apply-patch+yaml',
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await connection.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
        path,
      );
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline)
        throw new Error(`CRD ${crd.metadata.name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
