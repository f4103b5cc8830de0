// Applies jobherald's CRDs (crds/*.yaml) to a cluster and waits until the API server serves them.
// Used by the demo and the e2e suite; users install through Helm or deploy/jobherald.yaml.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { load } from 'js-yaml';
import {
  ApiextensionsV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

export function readCrds(dir = CRD_DIR): V1CustomResourceDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => load(readFileSync(join(dir, f), 'utf8')) as V1CustomResourceDefinition);
}

export async function installCrds(kc: KubeConfig, timeoutMs = 30_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const crd of readCrds()) {
    const name = crd.metadata!.name!;
    let existing: V1CustomResourceDefinition | undefined;
    try {
      existing = await api.readCustomResourceDefinition({ name });
    } catch {
      existing = undefined;
    }
    if (existing === undefined) await api.createCustomResourceDefinition({ body: crd });
    else {
      const body = {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion },
      };
      await api.replaceCustomResourceDefinition({ name, body });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
