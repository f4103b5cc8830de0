// What `jobherald controller` is told by flags and environment (src/cli/controller.ts parses them).
import type { DeliveryLimits } from '../delivery/dispatcher.ts';

export interface OperatorConfig {
  /** shown in every message unless an integration sets spec.clusterName */
  clusterName: string;
  /** the operator's own namespace: the Lease lives here; the default trusted and integration namespace */
  namespace: string;
  /** rules in these namespaces may select Jobs in other namespaces (tenancy) */
  clusterRuleNamespaces: string[];
  /** SlackIntegrations (and their token Secrets) are served only in these namespaces */
  integrationNamespaces: string[];
  leaderElect: boolean;
  leaseName: string;
  identity: string;
  /** how often membership and auth are re-checked when all is well */
  recheckIntervalMs: number;
  /** how often channels are re-checked while deliveries wait for an invite or a re-join */
  parkedRecheckIntervalMs: number;
  /** hold matched Jobs with the delivery finalizer until their outcome is recorded (false: best effort) */
  finalizers: boolean;
  /** the ConfigMap that scopes the admission policy ('' : do not keep one) */
  admissionParams: string;
  /** the least time between two status writes of one object */
  statusIntervalMs: number;
  deliveryLimits: Partial<DeliveryLimits>;
  /** Slack request timeout */
  slackTimeoutMs: number;
  /** how long a deleted SlackIntegration waits for Slack to answer spec.onDelete's call */
  removalTimeoutMs?: number;
  /** the OAuth redirect URL this operator serves (--oauth-public-url + /slack/oauth/callback); none: no installs */
  oauthRedirectURL?: string;
  /** send bot tokens to a plain-http spec.apiURL that is not loopback (default false: InsecureAPIURL) */
  allowInsecureSlackApiURL?: boolean;
}

export const DEFAULTS = {
  recheckIntervalMs: 5 * 60_000,
  parkedRecheckIntervalMs: 30_000,
  slackTimeoutMs: 10_000,
  statusIntervalMs: 2_000,
} as const;
