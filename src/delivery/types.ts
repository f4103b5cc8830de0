// What goes into the delivery engine and what comes out of it.
import type { EventType } from '../api/types.ts';
import type { SlackMessage } from '../domain/message.ts';
import type { Outcome } from '../domain/outcome-types.ts';

/** One delivery: what a rule sends about a Job's outcome to one destination. */
export interface DeliveryKey {
  jobUID: string;
  event: EventType;
  /** a canonical destination reference (delivery/destination.ts destinationRef) */
  destination: string;
}

/** One alert for one destination. Callers may extend it; the dispatcher hands the same object back. */
export interface DeliveryItem {
  /** unique per (rule UID, key); a second enqueue of the same id is ignored */
  id: string;
  /** (Job UID, event, canonical destination) within the rule */
  key: DeliveryKey;
  rule: { namespace: string; name: string; uid: string };
  /** the Job's "namespace/name" */
  job: string;
  /** the owning CronJob, for digests */
  cronJob?: string;
  /** the rule's resolved mentions (`<@U…>`, `<!subteam^S…>`), shown once in a digest's headline */
  mentions?: readonly string[];
  event: EventType;
  outcome: Outcome;
  /** the queue key: the resolved channel ID (C…/G…) or, for a DM, the user ID (U…) */
  destination: string;
  /** how the destination is shown in status and digests: "#data-alerts", "@alice@example.com" */
  destinationLabel: string;
  /** the rendered single message */
  message: SlackMessage;
  /** reply in this thread; threaded items are never folded into a digest */
  threadTs?: string;
  /** clock time (ms) at which the outcome was observed, for the latency metric */
  observedAt: number;
}

/** The item id for a rule's delivery: unique per (rule, Job UID, event, destination). */
export const deliveryItemId = (ruleUID: string, key: DeliveryKey): string =>
  `${ruleUID}/${key.jobUID}/${key.event}/${key.destination}`;

export type SendResult =
  | {
      result: 'Delivered';
      /** the conversation Slack posted to (a D… ID for a DM) */
      channel: string;
      ts: string;
      /** number of items in the message that carried this one: 1 for a single message, more for a digest */
      batchSize: number;
      attempts: number;
      /** clock time (ms) of Slack's ok */
      at: number;
    }
  | {
      result: 'Failed';
      /** stable error code: Slack's (`channel_not_found`, `invalid_blocks`) or ours (`timeout`) */
      error: string;
      /** human-readable, redacted */
      message: string;
      attempts: number;
      at: number;
    };

/**
 * Hooks for metrics, kept library-agnostic (src/observability wires prom-client to it). Queue depth is pulled:
 * read Dispatcher.depth() from a gauge's collect().
 */
export interface DeliveryMetrics {
  /** one final result per item; latency from observedAt to Slack's ok (or to the final failure) */
  result(integration: string, result: 'Delivered' | 'Failed', latencyMs: number, error?: string): void;
  /** one message sent to Slack (single or digest) that Slack accepted */
  message(integration: string, kind: 'single' | 'digest', items: number): void;
  /** a 429 / ratelimited answer */
  rateLimited(integration: string): void;
  /** a transient failure that will be retried */
  retry(integration: string, code: string): void;
}

export const noMetrics: DeliveryMetrics = { result() {}, message() {}, rateLimited() {}, retry() {} };
