// Support for the GitOps health tests: the gitops-health tool (tools/gitops-health, built once from the Go
// module proxy by deploy/build-gitops-health.sh and cached), which runs Argo CD's Lua health checks in
// deploy/argocd/health/ and kstatus on objects; and the states the operator writes, with the verdict each
// must get from both. test/e2e/gitops-health.test.ts produces those states on a real control plane (and can
// save them as the fixtures in test/fixtures/gitops-health/); test/unit/gitops-health.test.ts replays them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Condition } from '../../src/api/types.ts';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const HEALTH_DIR = join(ROOT, 'deploy/argocd/health');
export const FIXTURES = join(ROOT, 'test/fixtures/gitops-health');

/** A cold build takes about 110 CPU-seconds (minutes on a shared machine); a hook that may build needs this. */
export const GITOPS_HEALTH_BUILD_TIMEOUT_MS = 15 * 60_000;

export type ArgoStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';
export type KstatusStatus = 'Current' | 'InProgress' | 'Failed' | 'Terminating' | 'NotFound' | 'Unknown';

/** What the tool prints for one object. */
export interface Verdict {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** null when deploy/argocd/health has no script for the kind */
  argo: { script: string; status: ArgoStatus; message: string; error?: string } | null;
  kstatus: { status: KstatusStatus; message: string; error?: string };
}

/** A Kubernetes object, typed as far as the health checks read it. */
export interface HealthObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[]; [key: string]: unknown };
}

let binary: string | undefined;
let buildFailure: Error | undefined;

/** The tool: $JOBHERALD_GITOPS_HEALTH, else the cached build of deploy/build-gitops-health.sh (built if missing). */
export function gitopsHealthBinary(): string {
  if (binary !== undefined) return binary;
  if (buildFailure !== undefined) throw buildFailure; // one failed build per run, not one per test
  const fromEnv = process.env.JOBHERALD_GITOPS_HEALTH;
  if (fromEnv !== undefined && fromEnv !== '') return (binary = fromEnv);
  try {
    const dir = execFileSync(join(ROOT, 'deploy/build-gitops-health.sh'), {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: GITOPS_HEALTH_BUILD_TIMEOUT_MS,
    }).trim();
    return (binary = join(dir, 'gitops-health'));
  } catch (error) {
    buildFailure = new Error(`deploy/build-gitops-health.sh failed: ${(error as Error).message}`, {
      cause: error,
    });
    throw buildFailure;
  }
}

/**
 * For a beforeAll: builds the tool now (cold: minutes), so the build runs under the hook's timeout and not a
 * test's. A failure is not thrown here but by every test that runs the tool, so each of them fails instead
 * of being reported as skipped (what vitest does to the tests of a failed beforeAll).
 */
export function prebuildGitopsHealth(): void {
  try {
    gitopsHealthBinary();
  } catch {
    // kept in buildFailure and thrown by gitopsHealthBinary() in each test
  }
}

/** Argo CD's and kstatus's verdict on each object, in order (one run of the tool for all of them). */
export function verdicts(objects: readonly HealthObject[]): Verdict[] {
  const out = execFileSync(gitopsHealthBinary(), ['--health-dir', HEALTH_DIR], {
    encoding: 'utf8',
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const parsed = JSON.parse(out) as Verdict[];
  if (parsed.length !== objects.length)
    throw new Error(`gitops-health: ${objects.length} objects in, ${parsed.length} verdicts out`);
  return parsed;
}

/** One state the operator writes on a real object, and how Argo CD and kstatus must read it. */
export interface HealthCase {
  /** the fixture's file name without .json, and the test's name */
  name: string;
  kind: 'SlackIntegration' | 'NotificationRule';
  /** how the operator gets there */
  description: string;
  /** the Ready condition the operator writes (what the e2e test waits for) */
  ready: { status: 'True' | 'False' | 'Unknown'; reason: string };
  argo: ArgoStatus;
  kstatus: KstatusStatus;
}

/**
 * The states test/e2e/gitops-health.test.ts makes the operator write. Each pair follows the contract of
 * docs/api.md (Conditions and reasons): Ready → Healthy/Current, suspended → Suspended/Current, a
 * transient error retried → Progressing/InProgress, a stalled reason → Degraded/Failed, a spec the
 * operator has not observed yet → Progressing/InProgress.
 */
export const OPERATOR_CASES: readonly HealthCase[] = [
  {
    name: 'integration-ready',
    kind: 'SlackIntegration',
    description: 'a valid token and a reachable Slack',
    ready: { status: 'True', reason: 'Reconciled' },
    argo: 'Healthy',
    kstatus: 'Current',
  },
  {
    name: 'integration-suspended',
    kind: 'SlackIntegration',
    description: 'spec.suspend: true with a valid token',
    ready: { status: 'True', reason: 'Suspended' },
    argo: 'Suspended',
    kstatus: 'Current',
  },
  {
    name: 'integration-secret-not-found',
    kind: 'SlackIntegration',
    description: 'tokenSecretRef names a Secret that does not exist (Stalled)',
    ready: { status: 'False', reason: 'SecretNotFound' },
    argo: 'Degraded',
    kstatus: 'Failed',
  },
  {
    name: 'integration-slack-unavailable',
    kind: 'SlackIntegration',
    description: 'apiURL where nothing listens: a transient error, retried (Reconciling)',
    ready: { status: 'False', reason: 'SlackUnavailable' },
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
  {
    name: 'integration-generation-not-observed',
    kind: 'SlackIntegration',
    description: 'a Ready integration whose spec changed while the operator was stopped',
    ready: { status: 'True', reason: 'Reconciled' },
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
  {
    name: 'rule-ready',
    kind: 'NotificationRule',
    description: 'a rule through a Ready integration that admits its namespace',
    ready: { status: 'True', reason: 'Reconciled' },
    argo: 'Healthy',
    kstatus: 'Current',
  },
  {
    name: 'rule-suspended',
    kind: 'NotificationRule',
    description: 'spec.suspend: true',
    ready: { status: 'True', reason: 'Suspended' },
    argo: 'Suspended',
    kstatus: 'Current',
  },
  {
    name: 'rule-integration-suspended',
    kind: 'NotificationRule',
    description: 'a rule through a suspended integration',
    ready: { status: 'True', reason: 'IntegrationSuspended' },
    argo: 'Suspended',
    kstatus: 'Current',
  },
  {
    name: 'rule-integration-not-found',
    kind: 'NotificationRule',
    description: 'integrationRef names an integration that does not exist (Stalled)',
    ready: { status: 'False', reason: 'IntegrationNotFound' },
    argo: 'Degraded',
    kstatus: 'Failed',
  },
  {
    name: 'rule-namespace-not-allowed',
    kind: 'NotificationRule',
    description:
      "an integration whose allowedNamespaces (Same) does not admit the rule's namespace (Stalled)",
    ready: { status: 'False', reason: 'NamespaceNotAllowed' },
    argo: 'Degraded',
    kstatus: 'Failed',
  },
  {
    name: 'rule-integration-not-ready',
    kind: 'NotificationRule',
    description: 'a rule through an integration that cannot reach Slack: transient, retried (Reconciling)',
    ready: { status: 'False', reason: 'IntegrationNotReady' },
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
  {
    name: 'rule-generation-not-observed',
    kind: 'NotificationRule',
    description: 'a Ready rule whose spec changed while the operator was stopped',
    ready: { status: 'True', reason: 'Reconciled' },
    argo: 'Progressing',
    kstatus: 'InProgress',
  },
];

/** A fixture file: a real object as the API server returned it, and how it was made. */
export interface HealthFixture {
  description: string;
  capturedFrom: string;
  object: HealthObject;
}

export function readFixture(name: string): HealthFixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as HealthFixture;
}

/** The object without what only the API server's bookkeeping needs (managedFields), for a fixture. */
export function fixtureOf(object: HealthObject, description: string): HealthFixture {
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  return {
    description,
    capturedFrom:
      'test/e2e/gitops-health.test.ts on the local control plane (JOBHERALD_CAPTURE_GITOPS_FIXTURES=1)',
    object: { ...object, metadata },
  };
}
