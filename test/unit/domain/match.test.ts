import { describe, expect, it } from 'vitest';
import {
  CHECKS,
  matchRules,
  namespaceIndexedSelector,
  namespacesReached,
  selectsJob,
  whyNotMatched,
  type MatchContext,
} from '../../../src/domain/match.ts';
import type { Outcome } from '../../../src/domain/outcome-types.ts';
import { job, T2 } from './records.ts';
import { nrule } from './rules.ts';

const failed: Outcome = { event: 'Failed', reason: 'BackoffLimitExceeded', at: T2 };
const succeeded: Outcome = { event: 'Succeeded', at: T2 };
const NAMESPACE_LABELS: Record<string, Record<string, string>> = {
  data: { team: 'data' },
  etl: { team: 'data' },
  web: { team: 'web' },
};
const ctx: MatchContext = {
  namespaceLabels: (ns) => NAMESPACE_LABELS[ns],
  trustedNamespaces: new Set(['jobherald-system']),
};

describe('whyNotMatched', () => {
  it('matches a rule in the Job namespace with no selector for a selected event', () => {
    expect(whyNotMatched(nrule(), job(), failed, ctx)).toBeUndefined();
  });

  it('rejects a suspended rule first', () => {
    expect(whyNotMatched(nrule({ suspend: true, events: ['Succeeded'] }), job(), failed, ctx)).toEqual({
      check: 'suspended',
      reason: 'the rule is suspended',
    });
  });

  it('rejects an event not in events', () => {
    expect(whyNotMatched(nrule(), job(), succeeded, ctx)).toEqual({
      check: 'event',
      reason: 'event Succeeded is not in events [Failed, Cancelled]',
    });
  });

  it('covers only its own namespace by default', () => {
    expect(whyNotMatched(nrule({}, 'data'), job({ namespace: 'etl' }), failed, ctx)?.check).toBe('tenancy');
    const trusted = nrule({}, 'jobherald-system');
    expect(whyNotMatched(trusted, job({ namespace: 'etl' }), failed, ctx)).toEqual({
      check: 'namespace',
      reason: "namespace etl is not the rule's own namespace jobherald-system",
    });
  });

  it('never lets a rule in an untrusted namespace match another namespace, whatever its selector says', () => {
    const greedy = nrule({ selector: { namespaces: ['etl', 'web'], namespaceSelector: {} } }, 'data');
    expect(whyNotMatched(greedy, job({ namespace: 'web' }), failed, ctx)?.check).toBe('tenancy');
    expect(whyNotMatched(greedy, job({ namespace: 'data' }), failed, ctx)?.check).toBe('namespace');
  });

  it('honours namespaces for a trusted rule', () => {
    const rule = nrule({ selector: { namespaces: ['data', 'etl'] } }, 'jobherald-system');
    expect(whyNotMatched(rule, job({ namespace: 'etl' }), failed, ctx)).toBeUndefined();
    expect(whyNotMatched(rule, job({ namespace: 'web' }), failed, ctx)?.reason).toBe(
      'namespace web is not in namespaces [data, etl]',
    );
  });

  it('honours namespaceSelector for a trusted rule, with the namespace labels from the context', () => {
    const rule = nrule(
      { selector: { namespaceSelector: { matchLabels: { team: 'data' } } } },
      'jobherald-system',
    );
    expect(whyNotMatched(rule, job({ namespace: 'etl' }), failed, ctx)).toBeUndefined();
    expect(whyNotMatched(rule, job({ namespace: 'web' }), failed, ctx)?.reason).toBe(
      'namespace web does not match namespaceSelector',
    );
    expect(whyNotMatched(rule, job({ namespace: 'unknown' }), failed, ctx)?.reason).toBe(
      'the labels of namespace unknown are unknown',
    );
  });

  it('ANDs namespaces and namespaceSelector', () => {
    const rule = nrule(
      { selector: { namespaces: ['data', 'web'], namespaceSelector: { matchLabels: { team: 'data' } } } },
      'jobherald-system',
    );
    expect(whyNotMatched(rule, job({ namespace: 'data' }), failed, ctx)).toBeUndefined();
    expect(whyNotMatched(rule, job({ namespace: 'web' }), failed, ctx)?.check).toBe('namespace');
    expect(whyNotMatched(rule, job({ namespace: 'etl' }), failed, ctx)?.check).toBe('namespace');
  });

  it('applies jobSelector to the Job labels', () => {
    const rule = nrule({
      selector: {
        jobSelector: {
          matchLabels: { app: 'etl' },
          matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }],
        },
      },
    });
    expect(whyNotMatched(rule, job({ labels: { app: 'etl' } }), failed, ctx)).toBeUndefined();
    expect(whyNotMatched(rule, job({ labels: { app: 'etl', tier: 'x' } }), failed, ctx)?.check).toBe(
      'jobSelector',
    );
    expect(whyNotMatched(rule, job({ labels: {} }), failed, ctx)?.check).toBe('jobSelector');
  });

  it('matches jobNames globs on the Job name or the owning CronJob name', () => {
    const rule = nrule({ selector: { jobNames: ['nightly-*', 'backup'] } });
    expect(whyNotMatched(rule, job({ name: 'nightly-etl-29373' }), failed, ctx)).toBeUndefined();
    expect(
      whyNotMatched(rule, job({ name: 'backup-29373', cronJob: 'backup' }), failed, ctx),
    ).toBeUndefined();
    expect(whyNotMatched(rule, job({ name: 'backup-29373' }), failed, ctx)).toEqual({
      check: 'jobNames',
      reason: 'neither Job backup-29373 matches jobNames [nightly-*, backup]',
    });
    expect(whyNotMatched(rule, job({ name: 'x-1', cronJob: 'x' }), failed, ctx)?.reason).toBe(
      'neither Job x-1 nor CronJob x matches jobNames [nightly-*, backup]',
    );
  });

  it('rejects instead of throwing when a rule is malformed', () => {
    const broken = nrule({ events: undefined as never, selector: { jobNames: [42 as never] } });
    expect(() => whyNotMatched(broken, job(), failed, ctx)).not.toThrow();
    expect(whyNotMatched(broken, job(), failed, ctx)?.check).toBe('event');
  });

  it('runs the checks in the documented order', () => {
    expect(CHECKS.map((c) => c.name)).toEqual([
      'suspended',
      'event',
      'tenancy',
      'namespace',
      'jobSelector',
      'jobNames',
    ]);
  });
});

describe('matchRules', () => {
  it('splits rules into matched and rejected with reasons', () => {
    const a = nrule({}, 'data', 'a');
    const b = nrule({ events: ['Succeeded'] }, 'data', 'b');
    const c = nrule({ selector: { jobNames: ['other-*'] } }, 'data', 'c');
    const result = matchRules(job(), failed, [a, b, c], ctx);
    expect(result.matched).toEqual([a]);
    expect(result.rejected.map((r) => [r.rule.metadata.name, r.check])).toEqual([
      ['b', 'event'],
      ['c', 'jobNames'],
    ]);
  });

  it('returns nothing for no rules', () => {
    expect(matchRules(job(), failed, [], ctx)).toEqual({ matched: [], rejected: [] });
  });
});

describe('selectsJob (whatever the outcome will be)', () => {
  it('ignores the events a rule wants but nothing else', () => {
    expect(selectsJob(nrule({ events: ['Cancelled'] }), job(), ctx)).toBe(true);
    expect(selectsJob(nrule({ suspend: true }), job(), ctx)).toBe(false);
    expect(
      selectsJob(nrule({ selector: { jobSelector: { matchLabels: { app: 'web' } } } }), job(), ctx),
    ).toBe(false);
    expect(selectsJob(nrule({ selector: { jobNames: ['nightly-*'] } }), job(), ctx)).toBe(true);
    expect(selectsJob(nrule({}, 'web'), job(), ctx)).toBe(false);
  });
});

describe('namespaceIndexedSelector (a sweep: namespace checks once per namespace)', () => {
  const rules = [
    nrule({}),
    nrule({}, 'web'),
    nrule({ suspend: true }),
    nrule({ selector: { namespaces: ['etl', 'web'] } }, 'jobherald-system'),
    nrule({ selector: { namespaces: ['etl', 'web'] } }, 'data'), // untrusted: its own namespace only
    nrule({ selector: { namespaceSelector: { matchLabels: { team: 'data' } } } }, 'jobherald-system'),
    nrule({ selector: { jobSelector: { matchLabels: { app: 'etl' } } } }),
    nrule({ selector: { jobSelector: { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] } } }),
    nrule({ selector: { jobNames: ['nightly-*'], namespaces: ['data', 'web'] } }, 'jobherald-system'),
    nrule({ selector: { jobNames: ['backup'] } }),
  ];
  const jobs = ['data', 'etl', 'web', 'unknown'].flatMap((namespace) =>
    ([{}, { app: 'etl' }, { app: 'web' }] as Record<string, string>[]).flatMap((labels) =>
      ['nightly-etl-1', 'backup', 'other'].map((name) =>
        job({ namespace, labels, name, uid: `${namespace}/${name}` }),
      ),
    ),
  );

  it('selects exactly what selectsJob selects, Job by Job, in any order of namespaces', () => {
    const select = namespaceIndexedSelector(rules, (r) => r, ctx);
    let selections = 0;
    for (const j of [...jobs, ...jobs.toReversed()]) {
      const expected = rules.filter((r) => selectsJob(r, j, ctx));
      expect(select(j), `${j.namespace}/${j.name} ${JSON.stringify(j.labels)}`).toEqual(expected);
      selections += expected.length;
    }
    expect(selections).toBeGreaterThan(jobs.length); // the table exercises matches, not only refusals
  });

  it('runs the namespace checks once per namespace, not once per Job', () => {
    let lookups = 0;
    const counting: MatchContext = { ...ctx, namespaceLabels: (ns) => (lookups++, NAMESPACE_LABELS[ns]) };
    const select = namespaceIndexedSelector(rules, (r) => r, counting);
    for (const j of jobs) select(j);
    // one namespaceSelector rule × 4 namespaces
    expect(lookups).toBe(4);
  });
});

describe('namespacesReached (the admission policy scope)', () => {
  const known = ['data', 'etl', 'web', 'jobherald-system'];
  it("is the rule's own namespace by default", () => {
    expect(namespacesReached(nrule(), known, ctx)).toEqual(['data']);
  });

  it('is the listed and selected namespaces, for a trusted rule', () => {
    const trusted = (spec: Parameters<typeof nrule>[0]) => nrule(spec, 'jobherald-system');
    expect(namespacesReached(trusted({ selector: { namespaces: ['data', 'web'] } }), known, ctx)).toEqual([
      'data',
      'web',
    ]);
    expect(
      namespacesReached(
        trusted({ selector: { namespaceSelector: { matchLabels: { team: 'data' } } } }),
        known,
        ctx,
      ),
    ).toEqual(['data', 'etl']);
    expect(
      namespacesReached(
        trusted({
          selector: { namespaces: ['data', 'web'], namespaceSelector: { matchLabels: { team: 'data' } } },
        }),
        known,
        ctx,
      ),
    ).toEqual(['data']);
  });

  it("is only the rule's own namespace for a rule tenancy does not let reach further", () => {
    expect(namespacesReached(nrule({ selector: { namespaces: ['data', 'web'] } }), known, ctx)).toEqual([
      'data',
    ]);
  });
});
