// Metrics as Prometheus scrapes them: the text exposition of the instance's own registry.
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { DeliveryMetrics } from '../../../src/delivery/types.ts';
import type { ListWatchMetrics } from '../../../src/kube/list-watch.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import type { EventType } from '../../../src/api/types.ts';

const TOKEN = 'xoxb-1234-5678-abcdefghijklmnop';

/** The value of one series (`name{labels}` exactly as exposed), or undefined when it is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const fresh = () => new Metrics({ defaultMetrics: false });

describe('Metrics: registry', () => {
  it('uses a registry of its own, with the default process metrics, so two instances do not collide', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.setLeader(true);
    const [textA, textB] = await Promise.all([a.scrape(), b.scrape()]);
    expect(sample(textA, 'jobherald_leader')).toBe(1);
    expect(sample(textB, 'jobherald_leader')).toBe(0);
    expect(textA).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(textA).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(await globalRegistry.metrics()).not.toContain('jobherald_');
    expect(a.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('exposes the zero-valued series of bounded label sets before anything happens', async () => {
    const text = await fresh().scrape();
    for (const event of ['Succeeded', 'Failed', 'Cancelled']) {
      expect(sample(text, `jobherald_deliveries_total{result="delivered",event="${event}"}`)).toBe(0);
      expect(sample(text, `jobherald_deliveries_total{result="failed",event="${event}"}`)).toBe(0);
      expect(sample(text, `jobherald_outcomes_total{event="${event}"}`)).toBe(0);
    }
    for (const verb of ['get', 'list', 'watch', 'write'])
      expect(sample(text, `jobherald_kube_requests_total{verb="${verb}"}`)).toBe(0);
    expect(sample(text, 'jobherald_digests_total')).toBe(0);
    expect(sample(text, 'jobherald_queued_deliveries')).toBe(0);
  });
});

describe('Metrics: deliveries', () => {
  it('counts delivered and failed alerts by event and observes the end-to-end latency', async () => {
    const m = fresh();
    m.delivered('Failed', 1.5);
    m.delivered('Failed', 0.2);
    m.delivered('Succeeded', 7);
    m.failed('Cancelled');
    const text = await m.scrape();
    expect(sample(text, 'jobherald_deliveries_total{result="delivered",event="Failed"}')).toBe(2);
    expect(sample(text, 'jobherald_deliveries_total{result="delivered",event="Succeeded"}')).toBe(1);
    expect(sample(text, 'jobherald_deliveries_total{result="failed",event="Cancelled"}')).toBe(1);
    expect(sample(text, 'jobherald_deliveries_total{result="failed",event="Failed"}')).toBe(0);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="0.05"}')).toBe(0);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="0.25"}')).toBe(1);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="2"}')).toBe(2);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="10"}')).toBe(3);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="120"}')).toBe(3);
    expect(sample(text, 'jobherald_delivery_latency_seconds_count')).toBe(3);
    expect(sample(text, 'jobherald_delivery_latency_seconds_sum')).toBeCloseTo(8.7);
  });

  it("records the dispatcher's SendResult for an item: latency from observedAt to Slack's ok", async () => {
    const m = fresh();
    const item = { event: 'Failed' as EventType, observedAt: 10_000 };
    m.recordResult(item, {
      result: 'Delivered',
      channel: 'C1',
      ts: '1.2',
      batchSize: 1,
      attempts: 1,
      at: 13_000,
    });
    m.recordResult(item, {
      result: 'Failed',
      error: 'channel_not_found',
      message: 'x',
      attempts: 1,
      at: 11_000,
    });
    const text = await m.scrape();
    expect(sample(text, 'jobherald_deliveries_total{result="delivered",event="Failed"}')).toBe(1);
    expect(sample(text, 'jobherald_deliveries_total{result="failed",event="Failed"}')).toBe(1);
    expect(sample(text, 'jobherald_delivery_latency_seconds_sum')).toBe(3);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="2"}')).toBe(0);
    expect(sample(text, 'jobherald_delivery_latency_seconds_bucket{le="3"}')).toBe(1);
  });

  it('observes the dispatch latency with millisecond buckets', async () => {
    const m = fresh();
    m.dispatched(0.0008);
    m.dispatched(0.03);
    m.dispatched(0.4);
    m.dispatched(-1); // a clock step backwards is not a latency
    const text = await m.scrape();
    expect(sample(text, 'jobherald_dispatch_latency_seconds_bucket{le="0.001"}')).toBe(1);
    expect(sample(text, 'jobherald_dispatch_latency_seconds_bucket{le="0.05"}')).toBe(2);
    expect(sample(text, 'jobherald_dispatch_latency_seconds_bucket{le="0.5"}')).toBe(3);
    expect(sample(text, 'jobherald_dispatch_latency_seconds_bucket{le="10"}')).toBe(3);
    expect(sample(text, 'jobherald_dispatch_latency_seconds_count')).toBe(3);
  });

  it('implements the dispatcher hooks: failures and retries by code, messages, digests, 429s', async () => {
    const m = fresh();
    const hooks: DeliveryMetrics = m;
    hooks.result('ops/acme', 'Failed', 1200, 'channel_not_found');
    hooks.result('ops/acme', 'Failed', 1200, 'channel_not_found');
    hooks.result('ops/acme', 'Delivered', 800);
    hooks.message('ops/acme', 'single', 1);
    hooks.message('ops/acme', 'digest', 7);
    hooks.rateLimited('ops/acme');
    hooks.retry('ops/acme', 'http_500');
    const text = await m.scrape();
    expect(sample(text, 'jobherald_delivery_failures_total{code="channel_not_found"}')).toBe(2);
    expect(sample(text, 'jobherald_delivery_retries_total{code="http_500"}')).toBe(1);
    expect(sample(text, 'jobherald_slack_messages_total{kind="single"}')).toBe(1);
    expect(sample(text, 'jobherald_slack_messages_total{kind="digest"}')).toBe(1);
    expect(sample(text, 'jobherald_digests_total')).toBe(1);
    expect(sample(text, 'jobherald_slack_rate_limited_total{method="chat.postMessage"}')).toBe(1);
    // the hooks carry no event: the event-labelled counter and the latency come from recordResult()
    expect(sample(text, 'jobherald_delivery_latency_seconds_count')).toBe(0);
  });

  it('reports queue depth per integration and in total, read at scrape time, until unwatched', async () => {
    const m = fresh();
    let acme = 3;
    const stopAcme = m.watchIntegration({ integration: 'ops/acme', depth: () => acme });
    m.watchIntegration({ integration: 'data/corp', depth: () => 4 });
    m.watchIntegration({
      integration: 'data/broken',
      depth: () => {
        throw new Error('boom');
      },
    });
    let text = await m.scrape();
    expect(sample(text, 'jobherald_queue_depth{integration="ops/acme"}')).toBe(3);
    expect(sample(text, 'jobherald_queue_depth{integration="data/corp"}')).toBe(4);
    expect(text).not.toContain('data/broken');
    expect(sample(text, 'jobherald_queued_deliveries')).toBe(7);
    acme = 1;
    text = await m.scrape();
    expect(sample(text, 'jobherald_queue_depth{integration="ops/acme"}')).toBe(1);
    expect(sample(text, 'jobherald_queued_deliveries')).toBe(5);
    stopAcme();
    text = await m.scrape();
    expect(text).not.toContain('integration="ops/acme"');
    expect(sample(text, 'jobherald_queued_deliveries')).toBe(4);
  });

  it('reports each integration as Ready (1) or not (0), read at scrape time, until unwatched', async () => {
    const m = fresh();
    let ready = false;
    const stop = m.watchIntegration({ integration: 'ops/acme', depth: () => 0, ready: () => ready });
    m.watchIntegration({ integration: 'data/corp', depth: () => 0, ready: () => true });
    m.watchIntegration({
      integration: 'data/broken',
      depth: () => 0,
      ready: () => {
        throw new Error('boom');
      },
    });
    let text = await m.scrape();
    expect(sample(text, 'jobherald_integration_ready{integration="ops/acme"}')).toBe(0);
    expect(sample(text, 'jobherald_integration_ready{integration="data/corp"}')).toBe(1);
    expect(text).not.toContain('jobherald_integration_ready{integration="data/broken"}');
    ready = true;
    text = await m.scrape();
    expect(sample(text, 'jobherald_integration_ready{integration="ops/acme"}')).toBe(1);
    stop();
    text = await m.scrape();
    expect(text).not.toContain('jobherald_integration_ready{integration="ops/acme"}');
  });
});

describe('Metrics: Slack, Kubernetes, leadership', () => {
  it('counts Slack requests by method and result, and 429s by method', async () => {
    const m = fresh();
    m.slackRequest('chat.postMessage', 'ok');
    m.slackRequest('chat.postMessage', 'ok');
    m.slackRequest('conversations.join', 'rate_limited');
    m.slackRateLimited('conversations.join');
    const text = await m.scrape();
    expect(sample(text, 'jobherald_slack_requests_total{method="chat.postMessage",result="ok"}')).toBe(2);
    expect(
      sample(text, 'jobherald_slack_requests_total{method="conversations.join",result="rate_limited"}'),
    ).toBe(1);
    expect(sample(text, 'jobherald_slack_rate_limited_total{method="conversations.join"}')).toBe(1);
  });

  it('implements the list-watch hooks: restarts by resource and reason, relists by resource', async () => {
    const m = fresh();
    const lw: ListWatchMetrics = m;
    lw.watchRestarts('jobs', 'silence');
    lw.watchRestarts('jobs', 'silence');
    lw.watchRestarts('jobs', 'http_500');
    lw.relists('jobs');
    const text = await m.scrape();
    expect(sample(text, 'jobherald_watch_restarts_total{resource="jobs",reason="silence"}')).toBe(2);
    expect(sample(text, 'jobherald_watch_restarts_total{resource="jobs",reason="http_500"}')).toBe(1);
    expect(sample(text, 'jobherald_watch_relists_total{resource="jobs"}')).toBe(1);
  });

  it('tracks leadership, outcomes and API-server requests by verb', async () => {
    const m = fresh();
    m.setLeader(true);
    m.outcome('Failed');
    m.outcome('Failed');
    m.kubeRequest('watch');
    m.kubeRequest('write');
    m.kubeRequest('write');
    let text = await m.scrape();
    expect(sample(text, 'jobherald_leader')).toBe(1);
    expect(sample(text, 'jobherald_outcomes_total{event="Failed"}')).toBe(2);
    expect(sample(text, 'jobherald_kube_requests_total{verb="write"}')).toBe(2);
    expect(sample(text, 'jobherald_kube_requests_total{verb="watch"}')).toBe(1);
    expect(sample(text, 'jobherald_kube_requests_total{verb="get"}')).toBe(0);
    m.setLeader(false);
    text = await m.scrape();
    expect(sample(text, 'jobherald_leader')).toBe(0);
  });
});

describe('Metrics: label values stay safe and bounded', () => {
  it('never exposes a token, whichever label it was passed as', async () => {
    const m = fresh();
    m.slackRequest(TOKEN, 'ok');
    m.watchRestarts('jobs', `auth ${TOKEN}`);
    m.watchRestarts('jobs', TOKEN);
    m.retry('ops/acme', TOKEN);
    m.watchIntegration({ integration: TOKEN, depth: () => 1 });
    const text = await m.scrape();
    expect(text).not.toContain('1234-5678');
    expect(sample(text, 'jobherald_slack_requests_total{method="redacted",result="ok"}')).toBe(1);
    expect(sample(text, 'jobherald_watch_restarts_total{resource="jobs",reason="redacted"}')).toBe(2);
    expect(sample(text, 'jobherald_delivery_retries_total{code="redacted"}')).toBe(1);
    expect(sample(text, 'jobherald_queue_depth{integration="redacted"}')).toBe(1);
  });

  it('folds values outside the known set, of the wrong shape or beyond the cardinality cap into "other"', async () => {
    const m = fresh();
    m.outcome('Suspended' as EventType);
    m.kubeRequest('delete' as 'write');
    m.slackRequest('chat.postMessage', 'teapot' as 'ok');
    m.retry('ops/acme', 'has spaces and "quotes"');
    for (let i = 0; i < 150; i++) m.retry('ops/acme', `code_${i}`);
    const text = await m.scrape();
    expect(sample(text, 'jobherald_outcomes_total{event="other"}')).toBe(1);
    expect(sample(text, 'jobherald_kube_requests_total{verb="other"}')).toBe(1);
    expect(sample(text, 'jobherald_slack_requests_total{method="chat.postMessage",result="other"}')).toBe(1);
    expect(sample(text, 'jobherald_delivery_retries_total{code="code_0"}')).toBe(1);
    expect(sample(text, 'jobherald_delivery_retries_total{code="code_99"}')).toBe(1);
    expect(sample(text, 'jobherald_delivery_retries_total{code="code_100"}')).toBeUndefined();
    expect(sample(text, 'jobherald_delivery_retries_total{code="other"}')).toBe(51);
  });
});
