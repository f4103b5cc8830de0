// The CRDs on a real kube-apiserver and `jobherald validate` give the same verdict (quality-bar R6, ADR
// 0005): every document of test/support/bad-resources.ts is created with strict field validation (what
// `kubectl create` and `kubectl apply` send); schema and CEL problems are rejected by the API server with
// the expected path and message, problems only the operator can see are accepted by the API server, and
// the operator then reports them on the rule; every example under examples/ is accepted by both.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateResource, type ValidationError } from '../../src/api/validate.ts';
import { badResources, type BadResource } from '../support/bad-resources.ts';
import { createNamespace, deleteNamespace, uniqueName } from '../support/kube.ts';
import {
  conditionOf,
  getRule,
  startOperator,
  waitForCondition,
  type OperatorProcess,
} from '../support/operator.ts';
import { adminConnection, installChartCrds, objectPath, ROOT, type KubeObject } from '../support/chart.ts';

interface Cause {
  reason?: string;
  message: string;
  field?: string;
}

interface Status {
  reason?: string;
  message?: string;
  details?: { causes?: Cause[] };
}

type Created = { accepted: true } | { accepted: false; code: number; status: Status };

let ns = '';

beforeAll(async () => {
  await installChartCrds();
  ns = await createNamespace(uniqueName('crdval'));
});

afterAll(async () => {
  if (ns !== '') await deleteNamespace(ns);
});

/** A copy of `doc` in the test namespace. */
function inTestNamespace(doc: Record<string, unknown>, name?: string): KubeObject {
  const copy = structuredClone(doc) as unknown as KubeObject;
  copy.metadata = { ...copy.metadata, namespace: ns, ...(name === undefined ? {} : { name }) };
  return copy;
}

/** POST with fieldValidation=Strict; an accepted object is deleted again unless `keep`. */
async function create(object: KubeObject, keep = false): Promise<Created> {
  const api = adminConnection();
  const response = await api.send('POST', objectPath(object, false), {
    query: { fieldValidation: 'Strict', fieldManager: 'jobherald-e2e' },
    body: object,
  });
  const body = (await response.json()) as Status;
  if (response.status === 201) {
    if (!keep) await api.json('DELETE', objectPath(object));
    return { accepted: true };
  }
  return { accepted: false, code: response.status, status: body };
}

/** "Invalid value: \"Data Alerts\": channel must be …" → "channel must be …" */
const ruleMessage = (cause: string): string => cause.replace(/^Invalid value: (?:"(?:[^"\\]|\\.)*": )?/, '');

/** jobherald validate's errors at the document's path that carry its message (exactly, for CEL). */
function validateMatches(bad: BadResource): ValidationError[] {
  const result = validateResource(bad.resource);
  if (result.ok) return [];
  return result.errors.filter(
    (e) =>
      e.path === bad.path &&
      (bad.enforcedBy === 'cel' ? e.message === bad.message : e.message.includes(bad.message)),
  );
}

const byApiServer = badResources.filter((b) => b.enforcedBy !== 'operator');
const byOperator = badResources.filter((b) => b.enforcedBy === 'operator');

describe('documents the API server rejects', () => {
  it('covers both kinds and both layers', () => {
    expect(new Set(byApiServer.map((b) => b.enforcedBy))).toEqual(new Set(['schema', 'cel']));
    expect(new Set(byApiServer.map((b) => b.resource['kind']))).toEqual(
      new Set(['SlackIntegration', 'NotificationRule']),
    );
  });

  it.each(byApiServer.map((b) => [b.name, b.enforcedBy, b] as const))(
    '%s (%s)',
    async (_name, enforcedBy, bad) => {
      const created = await create(inTestNamespace(bad.resource));
      expect(created.accepted, `the API server accepted "${bad.name}"`).toBe(false);
      if (created.accepted) return;
      const { code, status } = created;
      const causes = status.details?.causes ?? [];
      if (enforcedBy === 'cel') {
        // an x-kubernetes-validations rule: its own message, at the same path, word for word
        expect(code).toBe(422);
        const atPath = causes.filter((c) => c.field === bad.path).map((c) => ruleMessage(c.message));
        expect(atPath, JSON.stringify(status)).toContain(bad.message);
      } else if (code === 400) {
        // strict field validation of an unknown field: the decoder names the field in its message
        expect(status.reason).toBe('BadRequest');
        expect(status.message).toContain(`strict decoding error: ${bad.message}`);
        expect(bad.message).toContain(`"${bad.path}"`);
      } else {
        expect(code).toBe(422);
        const atPath = causes.filter((c) => c.field === bad.path && c.message.includes(bad.message));
        expect(atPath, JSON.stringify(status)).not.toEqual([]);
      }
      // … and jobherald validate says the same
      expect(validateMatches(bad), JSON.stringify(validateResource(bad.resource))).not.toEqual([]);
    },
  );
});

describe('documents only the operator rejects', () => {
  let operator: OperatorProcess | undefined;

  afterAll(async () => {
    await operator?.stop();
  });

  it.each(byOperator.map((b) => [b.name, b] as const))(
    '%s: accepted by the API server, rejected by jobherald validate',
    async (_name, bad) => {
      expect(await create(inTestNamespace(bad.resource))).toEqual({ accepted: true });
      expect(validateMatches(bad), JSON.stringify(validateResource(bad.resource))).not.toEqual([]);
    },
  );

  it('the operator reports each such NotificationRule as Ready=False InvalidSpec with the same message', async () => {
    const rules = byOperator.filter((b) => b.resource['kind'] === 'NotificationRule');
    expect(rules.length).toBeGreaterThan(0);
    const names = rules.map((_, i) => `invalid-${i}`);
    for (const [i, bad] of rules.entries()) {
      expect(await create(inTestNamespace(bad.resource, names[i]), true)).toEqual({ accepted: true });
    }
    operator = await startOperator({ namespace: ns });
    for (const [i, bad] of rules.entries()) {
      const rule = await waitForCondition(() => getRule(ns, names[i] ?? ''), {
        status: 'False',
        reason: 'InvalidSpec',
      });
      const message = conditionOf(rule)?.message ?? '';
      expect(message).toContain(`${bad.path}: `);
      expect(message).toContain(bad.message);
    }
  });
});

describe('examples/', () => {
  const examples = readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      loadAll(readFileSync(join(ROOT, 'examples', f), 'utf8')).map((doc) => ({
        file: f,
        doc: doc as KubeObject,
      })),
    )
    .filter(({ doc }) => doc.apiVersion.startsWith('jobherald.dev/'));

  it('has both kinds', () => {
    expect(new Set(examples.map(({ doc }) => doc.kind))).toEqual(
      new Set(['SlackIntegration', 'NotificationRule']),
    );
  });

  it.each(examples.map(({ file, doc }) => [`${file}: ${doc.kind} ${doc.metadata.name}`, doc] as const))(
    '%s is accepted by the API server and by jobherald validate',
    async (_name, doc) => {
      expect(await create(inTestNamespace(doc))).toEqual({ accepted: true });
      expect(validateResource(doc)).toEqual({ ok: true, value: doc });
    },
  );
});
