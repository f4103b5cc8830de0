// TypeScript shapes of the jobherald.dev/v1alpha1 custom resources. Field names are the public contract
// of ../../docs (product.md §1): add fields freely, rename none without an ADR. The CRD schemas in crds/
// are the source of truth for validation; these types mirror them.

export const GROUP = 'jobherald.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** server-side apply bookkeeping; its times are the API server's (read for the rule's last spec change) */
  managedFields?: {
    manager?: string;
    operation?: string;
    subresource?: string;
    time?: string;
    fieldsV1?: unknown;
  }[];
}

/** metav1.Condition */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---------------------------------------------------------------- SlackIntegration

export interface SecretKeyRef {
  name: string;
  key?: string;
}

/** The Slack app's own credentials: what refreshing rotated tokens (and, later, the OAuth install) needs. */
export interface SlackOAuthSpec {
  /** the app's client ID (Basic Information → App Credentials) */
  clientID: string;
  /** the Secret key holding the app's client secret (default key `client-secret`) */
  clientSecretRef: SecretKeyRef;
  /** the Secret key holding the app's signing secret (default key `signing-secret`): for interactivity, later */
  signingSecretRef?: SecretKeyRef;
}

export interface TokenRotationSpec {
  /**
   * A Secret the operator creates and owns, in the integration's namespace, that refreshed tokens are written
   * to instead of tokenSecretRef's Secret: for a Secret that something else owns (an ExternalSecret, a GitOps
   * tool) and would revert. Seeded from tokenSecretRef's refresh token, and seeded again when that changes.
   */
  secretName?: string;
}

export interface SlackIntegrationSpec {
  tokenSecretRef: SecretKeyRef;
  oauth?: SlackOAuthSpec;
  /**
   * What deleting the integration does in Slack: Keep (default: nothing), RevokeToken (auth.revoke of the bot
   * token) or UninstallApp (apps.uninstall: every token of the app in the workspace dies; needs spec.oauth).
   */
  onDelete?: 'Keep' | 'RevokeToken' | 'UninstallApp';
  /** the workspace (and Enterprise Grid org) an install must be for */
  workspace?: { teamID?: string; enterpriseID?: string };
  tokenRotation?: TokenRotationSpec;
  apiURL?: string;
  allowedNamespaces?: { from: 'Same' | 'All' | 'Selector'; selector?: LabelSelector };
  membership?: { join?: boolean; leaveUnused?: boolean };
  clusterName?: string;
  suspend?: boolean;
  testNonce?: string;
  /** which channels and user groups the rules using this integration may name; absent: any (docs/adr/0013) */
  channelPolicy?: ChannelPolicy;
}

/**
 * SlackIntegration.spec.channelPolicy: an allow-list. A rule's channel or user-group mention is allowed when
 * some entry whose namespaceSelector matches the rule's namespace lists it (src/domain/channel-policy.ts).
 */
export interface ChannelPolicy {
  allow: ChannelPolicyEntry[];
}

export interface ChannelPolicyEntry {
  /** labels of the rule's namespace; absent: every namespace that allowedNamespaces admits */
  namespaceSelector?: LabelSelector;
  /** `name`, `#name`, a glob on the name (`team-a-*`), or a channel ID (`C…`/`G…`) */
  channels?: string[];
  /** user-group handles (`oncall`, `@oncall`), globs on the handle, or user-group IDs (`S…`) */
  userGroups?: string[];
}

export type ChannelState = 'Joined' | 'Member' | 'InviteRequired' | 'NotFound' | 'Archived';

export interface ChannelStatus {
  name: string;
  id?: string;
  private?: boolean;
  state: ChannelState;
  message?: string;
  /** "namespace/name" of the rules that name this channel */
  usedBy: string[];
}

export interface TestResult {
  channel: string;
  result: 'Delivered' | 'Failed';
  ts?: string;
  error?: string;
}

export interface SlackIntegrationStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  workspace?: { id: string; name: string; url: string; botUserID: string };
  scopes?: string[];
  channels?: ChannelStatus[];
  /** usable channels out of the channels named by allowed rules, e.g. "3/4" (the CHANNELS printer column) */
  channelsReady?: string;
  lastTest?: { nonce: string; time: string; results: TestResult[] };
  /** the bot token in use, when it is a rotating one (xoxe.…); never the token itself */
  token?: TokenStatus;
  /** the install link (spec.oauth with the operator's --oauth-public-url) and how the last install went */
  install?: InstallStatus;
}

export interface InstallStatus {
  /** Slack's authorize URL with a signed, single-use state for this integration */
  url?: string;
  /** when the link stops working (RFC 3339); a fresh one is issued before */
  expiresAt?: string;
  lastAttempt?: { time: string; result: 'Installed' | 'Failed'; reason: string; message: string };
}

export interface TokenStatus {
  /** the Secret the token was read from: tokenSecretRef's, or tokenRotation.secretName once it was seeded */
  secretName: string;
  /** when the token expires (RFC 3339), as Slack said when it was issued */
  expiresAt?: string;
  /** when the operator last refreshed it */
  refreshedAt?: string;
  /** when the operator plans to refresh it */
  refreshAfter?: string;
  /** why the last refresh failed, while the token still works (the remedy included) */
  refreshError?: string;
}

export interface SlackIntegration {
  apiVersion: typeof API_VERSION;
  kind: 'SlackIntegration';
  metadata: ObjectMeta;
  spec: SlackIntegrationSpec;
  status?: SlackIntegrationStatus;
}

// ---------------------------------------------------------------- NotificationRule

export type EventType = 'Succeeded' | 'Failed' | 'Cancelled';
export const EVENT_TYPES: readonly EventType[] = ['Succeeded', 'Failed', 'Cancelled'];

/** Exactly one of channel/user is set (the CRD enforces it). */
export interface Destination {
  channel?: string;
  user?: string;
}

/** Exactly one of user/group is set. */
export interface Mention {
  user?: string;
  group?: string;
}

export interface Link {
  text: string;
  url: string;
}

export interface NotificationRuleSpec {
  integrationRef: { name: string; namespace?: string };
  selector?: {
    namespaces?: string[];
    namespaceSelector?: LabelSelector;
    jobSelector?: LabelSelector;
    jobNames?: string[];
  };
  events: EventType[];
  destinations: Destination[];
  mentions?: Mention[];
  links?: Link[];
  suspend?: boolean;
}

export type DeliveryResult = 'Delivered' | 'Failed';

export interface DeliveryRecord {
  time: string;
  job: string;
  jobUID: string;
  event: EventType;
  destination: string;
  result: DeliveryResult;
  ts?: string;
  error?: string;
}

export type DestinationState =
  | 'Resolved'
  | 'ChannelNotFound'
  | 'InviteRequired'
  | 'Archived'
  | 'UserNotFound'
  | 'Pending'
  /** the integration's channelPolicy does not allow it for the rule's namespace (nothing else is said) */
  | 'NotAllowed';

/** How one destination of a rule resolved in Slack. */
export interface DestinationStatus {
  /** the destination as written: "#name", "C…", "alice@example.com" */
  destination: string;
  id?: string;
  state: DestinationState;
  message?: string;
}

export interface NotificationRuleStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  destinations?: DestinationStatus[];
  deliveries?: DeliveryRecord[];
  totals?: { delivered: number; failed: number };
  /** outcomes before this time are not alerted about Jobs jobherald did not hold (a migrated 0.1 ledger's floor) */
  alertsSince?: string;
  /** deprecated: jobherald 0.1's delivery ledger, read once and removed (src/delivery/legacy-ledger.ts) */
  ledger?: unknown;
}

export interface NotificationRule {
  apiVersion: typeof API_VERSION;
  kind: 'NotificationRule';
  metadata: ObjectMeta;
  spec: NotificationRuleSpec;
  status?: NotificationRuleStatus;
}
