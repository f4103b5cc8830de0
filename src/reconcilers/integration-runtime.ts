// What the operator knows about one SlackIntegration, and how it converges: reads the token from the Secret,
// checks it with auth.test, maps channel names to IDs, keeps the bot's membership in line with the rules (join
// public channels, report private ones that need an invite), posts test messages when testNonce changes, and
// owns the integration's delivery Dispatcher. Status: Authenticated, ChannelsReady, Ready (kstatus),
// workspace, scopes, channels. The reconciler (integration-reconciler.ts) drives it and writes its status.
import { createHash } from 'node:crypto';
import type {
  ChannelStatus,
  Condition,
  NotificationRuleSpec,
  SlackIntegration,
  SlackIntegrationStatus,
  TestResult,
} from '../api/types.ts';
import { ConditionTypes, Reasons } from '../api/reasons.ts';
import { setCondition, summarizeReady, worstHealth, type Health } from '../api/conditions.ts';
import { applyDefaults } from '../api/defaults.ts';
import { lastSpecChange } from '../api/spec-change.ts';
import { validateSlackIntegration } from '../api/validate.ts';
import {
  applyJoinResult,
  channelsReadyCondition,
  channelsReadySummary,
  isUsable,
  joinedByOperator,
  parseChannelRef,
  planMembership,
  type DesiredChannel,
  type ResolvedChannel,
} from '../domain/membership.ts';
import { renderDigest, renderTestMessage } from '../domain/render.ts';
import { describeMissing, missingScopes, neededScopes, type ScopeNeed } from '../domain/scopes.ts';
import {
  ALLOWED,
  channelVerdict,
  permittedChannels,
  policyScope,
  userGroupVerdict,
  type Identity,
  type PolicyVerdict,
} from '../domain/channel-policy.ts';
import { insecureApiUrlProblem } from '../domain/api-url.ts';
import type { NamespaceLabels } from '../domain/tenancy.ts';
import { USERGROUP_ID } from '../api/patterns.ts';
import { Dispatcher } from '../delivery/dispatcher.ts';
import type { DeliveryItem, DeliveryMetrics, SendResult } from '../delivery/types.ts';
import { AuthError, describe, JobheraldError, PermanentError, RetryableError } from '../errors.ts';
import type {
  AuthInfo,
  Conversation,
  SlackAppClientFactory,
  SlackClientFactory,
  SlackPort,
} from '../slack/port.ts';
import type { SecretStore } from './sinks.ts';
import {
  clientSecretOf,
  isRotating,
  readCredentials,
  refreshAfter,
  type CachedSecret,
  type Credentials,
} from './token-credentials.ts';
import { TokenRotation } from './token-rotation.ts';
import { installScopes } from '../domain/scopes.ts';
import { INSTALLED_WITH_ANNOTATION, installURL, linkFromURL, type InstallLink } from '../oauth/link.ts';
import { newNonce } from '../oauth/state.ts';
import type { Clock } from '../delivery/clock.ts';
import type { LogSink } from '../slack/logging.ts';
import type { ReconcileResult } from './work-queue.ts';
import { rfc3339 as iso } from '../domain/time.ts';

export interface IntegrationHooks {
  log: LogSink;
  metrics?: DeliveryMetrics;
  /** every final delivery result (the rule reconciler records it) */
  onResult(item: DeliveryItem, result: SendResult): void;
  /** ask for a reconcile of this integration (membership re-check) */
  requeue(key: string, afterMs?: number): void;
  slackTimeoutMs: number;
  deliveryLimits: Dispatcher['limits'] extends infer L ? Partial<L> : never;
  clock: Clock;
  /** only the composition root constructs Slack clients */
  createSlackClient: SlackClientFactory;
  /** clients for the app's own credentials (refreshing rotating tokens) */
  createSlackAppClient: SlackAppClientFactory;
  /** where refreshed tokens are stored */
  secrets: SecretStore;
  /** the OAuth redirect URL the operator serves (--oauth-public-url); undefined: no install links */
  oauthRedirectURL?: string;
  /** labels of a rule's namespace, for channelPolicy namespaceSelectors (absent: unknown, fail closed) */
  namespaceLabels?: NamespaceLabels;
}

interface ReconcileInput {
  object: SlackIntegration;
  served: boolean;
  /** a Secret of the integration's namespace, as the watch caches it */
  secret: (name: string) => CachedSecret | undefined;
  desired: DesiredChannel[];
  /** the rules allowed to use this integration */
  rules: { key: string; spec: NotificationRuleSpec }[];
  recheckIntervalMs: number;
  parkedRecheckIntervalMs: number;
  /** --allow-insecure-slack-api-url: send the token to a plain-http apiURL that is not loopback */
  allowInsecureApiURL?: boolean;
}

/** Until a token works, sends park on this (as if Slack said not_authed) instead of being lost. */
const noTokenPort: SlackPort = new Proxy({} as SlackPort, {
  get: () => () => Promise.reject(new AuthError('not_authed', 'the integration has no usable token yet')),
});

/** After a failed refresh, try again this much later (a refused refresh token: not before the next re-check). */
const REFRESH_RETRY_MS = 30_000;
/**
 * Held alerts are keyed by the channel reference; with a channelPolicy the rule's namespace is part of the
 * key, so one namespace's alerts are never released to a channel because another namespace may use it, and
 * the policy is asked again at release (docs/adr/0013).
 */
const HOLD_SCOPE = '|';
const splitHoldKey = (key: string): { ref: string; namespace?: string } => {
  const at = key.indexOf(HOLD_SCOPE);
  return at < 0 ? { ref: key } : { ref: key.slice(0, at), namespace: key.slice(at + 1) };
};

const tokenHash = (token: string, apiURL: string | undefined): string =>
  createHash('sha256')
    .update(`${apiURL ?? ''}\n${token}`)
    .digest('hex');

/** Everything the operator knows about one SlackIntegration, kept across reconciles. */
export class IntegrationRuntime {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly dispatcher: Dispatcher;
  object: SlackIntegration | undefined;
  port: SlackPort = noTokenPort;
  auth: AuthInfo | undefined;
  #authAt = 0;
  #tokenHash: string | undefined;
  /** the token in use, read from its Secret (or just refreshed) */
  #credentials: Credentials | undefined;
  readonly #rotation: TokenRotation;
  /** the token Slack said token_expired to: refresh it now, whatever the Secret's expires-at says */
  #expiredToken: string | undefined;
  /** why the last refresh did not happen or failed, while the token still works */
  #refreshError: string | undefined;
  /** no refresh attempt before this (ms): after a failure */
  #refreshNotBefore = 0;
  /** the last refresh failure's reason, for an expired token waiting out the backoff */
  #lastRefreshFailure: { reason: string; stalled: boolean } | undefined;
  /** the install link's nonce and expiry (the URL is signed anew from them with the current client secret) */
  #install: InstallLink | undefined;
  /** the app's client secret, which signs the install link; never in status or logs */
  #clientSecret: string | undefined;
  /** why the integration cannot send, if it cannot (condition reason + message) */
  problem: { reason: string; message: string; stalled?: boolean } | undefined;
  #directory: { byId: Map<string, Conversation>; byName: Map<string, Conversation>; at: number } | undefined;
  /** the last directory read (not dropped when a send asks for a re-check): what channelPolicy matches on */
  #lastDirectory: { byId: Map<string, Conversation>; byName: Map<string, Conversation> } | undefined;
  channels: ChannelStatus[] = [];
  /** what the rules' features need that the token's scopes do not grant (auth.test's x-oauth-scopes) */
  missingScopes: ScopeNeed[] = [];
  readonly #users = new Map<string, { id?: string; error?: string; at: number }>();
  readonly #userLookups = new Map<string, Promise<{ id?: string; error?: string }>>();
  #groups: { map: Map<string, string>; at: number } | undefined;
  #groupsLookup: Promise<Map<string, string>> | undefined;
  lastTest: SlackIntegrationStatus['lastTest'];
  conditions: Condition[] = [];
  /** destinations parked after not_in_channel / channel_not_found, waiting for a re-check */
  readonly parked = new Set<string>();
  readonly #hooks: IntegrationHooks;
  readonly #clock: Clock;

  constructor(key: string, hooks: IntegrationHooks) {
    this.key = key;
    [this.namespace, this.name] = key.split('/') as [string, string];
    this.#hooks = hooks;
    this.#clock = hooks.clock;
    this.#rotation = new TokenRotation(hooks.secrets, () => hooks.clock.now());
    this.dispatcher = new Dispatcher({
      clock: hooks.clock,
      integration: key,
      port: noTokenPort,
      renderDigest: (items) =>
        renderDigest(
          items.map((i) => ({
            job: { ...splitJob(i.job), uid: i.key.jobUID, cronJob: i.cronJob },
            outcome: i.outcome,
            mentions: i.mentions,
          })),
          { clusterName: this.clusterName },
        ),
      onResult: (item, result) => hooks.onResult(item, result),
      onChannelUnavailable: (destination, code) => {
        this.parked.add(destination);
        this.#directory = undefined; // Slack changed under us: list channels again
        hooks.log.info(
          { integration: key, destination, code },
          'channel unavailable; re-checking membership',
        );
        hooks.requeue(key);
      },
      onAuthError: (code, message) => {
        if (code === 'token_expired') this.#expiredToken = this.#credentials?.token;
        this.auth = undefined;
        this.problem = authProblem(code, message);
        hooks.requeue(key);
      },
      limits: hooks.deliveryLimits,
      log: hooks.log,
      metrics: hooks.metrics,
    });
  }

  get clusterName(): string | undefined {
    return this.object?.spec.clusterName;
  }

  /** when the integration's spec last changed (ms, API server clock): a resume, a new token reference… */
  get since(): number {
    return this.object === undefined ? Number.NaN : lastSpecChange(this.object);
  }

  get suspended(): boolean {
    return this.object?.spec.suspend === true;
  }

  /** True when it authenticated and is not suspended: rules using it can deliver. */
  get ready(): boolean {
    return this.auth !== undefined && this.problem === undefined && !this.suspended;
  }

  channelState(ref: string): ChannelStatus | undefined {
    const parsed = parseChannelRef(ref);
    return this.channels.find((c) => (parsed.kind === 'id' ? c.id === parsed.id : c.name === parsed.name));
  }

  /**
   * Keeps an alert for a channel reference that does not resolve (yet): Slack hides a private channel from a
   * bot that is not in it, so "not found" may mean "invite me". The dispatcher parks it like any channel that
   * became unavailable (one mechanism, one setting: channelHoldMs) until a re-check resolves it.
   */
  hold(ref: string, item: DeliveryItem): void {
    const channel = this.channelState(ref);
    const code = channel?.state === 'InviteRequired' ? 'not_in_channel' : 'channel_not_found';
    const key = this.channelPolicy === undefined ? ref : `${ref}${HOLD_SCOPE}${item.rule.namespace}`;
    if (!this.dispatcher.hold(key, item, code, `${item.destinationLabel}: ${code}`)) {
      this.#hooks.onResult(item, {
        result: 'Failed',
        error: 'not_enqueued',
        message: `${item.destinationLabel}: not enqueued`,
        attempts: 0,
        at: this.#clock.now(),
      });
    }
    this.#hooks.requeue(this.key);
  }

  /** Held alerts whose channel now resolves go to its queue; archived ones fail; the others keep waiting. */
  #releaseHeld(): void {
    for (const key of this.dispatcher.heldRefs()) {
      const { ref, namespace } = splitHoldKey(key);
      if (namespace !== undefined) {
        // asked again: the policy, or the namespace's labels, may have changed while the alert waited
        const verdict = this.channelAllowed(namespace, ref);
        if (verdict.allowed === false) {
          this.dispatcher.failHeld(key, 'channel_not_allowed', `${ref}: not allowed by the channel policy`);
          continue;
        }
        if (verdict.allowed === undefined) continue;
      }
      const channel = this.channelState(ref);
      if (channel?.state === 'Archived')
        this.dispatcher.failHeld(key, 'is_archived', `#${channel.name} is archived`);
      else if (channel?.id !== undefined && isUsable(channel))
        this.dispatcher.releaseHeld(key, channel.id, `#${channel.name}`);
      else if (channel?.state === 'InviteRequired')
        this.dispatcher.hold(key, undefined, 'not_in_channel', `#${channel.name}: not_in_channel`);
    }
  }

  // ------------------------------------------------------------------ channelPolicy (docs/adr/0013)

  /** spec.channelPolicy as of the last reconcile (before it: as cached); undefined allows everything */
  get channelPolicy(): SlackIntegration['spec']['channelPolicy'] {
    return this.object?.spec.channelPolicy;
  }

  /** What Slack last said a channel reference is (the last directory, then the channels in status). */
  #identifyChannel(ref: string): Identity | undefined {
    const parsed = parseChannelRef(ref);
    const directory = this.#directory ?? this.#lastDirectory;
    const c = parsed.kind === 'id' ? directory?.byId.get(parsed.id) : directory?.byName.get(parsed.name);
    if (c !== undefined) return { id: c.id, name: c.name };
    const known = this.channelState(ref);
    return known?.id === undefined ? undefined : { id: known.id, name: known.name };
  }

  /**
   * Whether a rule in `namespace` may use the channel it names as `ref`. Asked by membership (a refused
   * channel is never joined), by the rule's status and by delivery (a refused alert is never queued).
   */
  channelAllowed(namespace: string, ref: string): PolicyVerdict {
    const policy = this.channelPolicy;
    if (policy === undefined) return ALLOWED;
    return channelVerdict({
      policy,
      namespace,
      labels: this.#hooks.namespaceLabels?.(namespace),
      ref,
      resolved: this.#identifyChannel(ref),
      looked: (this.#directory ?? this.#lastDirectory) !== undefined,
      integration: this.key,
    });
  }

  /** Whether a rule in `namespace` may mention the user group it names as `ref` (may list user groups). */
  async userGroupAllowed(namespace: string, ref: string): Promise<PolicyVerdict> {
    const policy = this.channelPolicy;
    if (policy === undefined) return ALLOWED;
    const question = {
      policy,
      namespace,
      labels: this.#hooks.namespaceLabels?.(namespace),
      ref,
      integration: this.key,
    };
    const first = userGroupVerdict({ ...question, resolved: undefined, looked: false });
    if (first.allowed !== undefined) return first;
    const groups = await this.#groupMap();
    const handle = ref.trim().replace(/^@/, '');
    let resolved: Identity | undefined;
    if (USERGROUP_ID.test(handle)) {
      const found = [...groups].find(([, id]) => id === handle);
      if (found !== undefined) resolved = { id: found[1], name: found[0] };
    } else if (groups.has(handle)) resolved = { id: groups.get(handle) as string, name: handle };
    return userGroupVerdict({ ...question, resolved, looked: true });
  }

  /** Changes whenever what the policy allows rules in `namespace` may change (caches key on it). */
  policyScope(namespace: string): string {
    return policyScope(this.channelPolicy, this.#hooks.namespaceLabels?.(namespace));
  }

  /** Stops sending: returns every alert not yet sent (queued or held), for the caller to release or fail. */
  async stop(): Promise<DeliveryItem[]> {
    return this.dispatcher.stop();
  }

  /**
   * The user ID for an email (cached 10 min; not-found answers 1 min). Concurrent callers share one lookup,
   * so a burst of alerts costs one users.lookupByEmail, not one each. Transient errors reach the caller.
   */
  userId(email: string): Promise<{ id?: string; error?: string }> {
    const key = email.trim().toLowerCase();
    const cached = this.#users.get(key);
    if (
      cached !== undefined &&
      this.#clock.now() - cached.at < (cached.id !== undefined ? 600_000 : 60_000)
    ) {
      return Promise.resolve(cached);
    }
    let lookup = this.#userLookups.get(key);
    if (lookup === undefined) {
      lookup = this.port
        .lookupUserByEmail(key)
        .then(
          (id) => ({ id }),
          (error: unknown) => {
            if (error instanceof PermanentError) return { error: error.code };
            throw error;
          },
        )
        .then((entry) => {
          this.#users.set(key, { ...entry, at: this.#clock.now() });
          return entry;
        })
        .finally(() => this.#userLookups.delete(key));
      this.#userLookups.set(key, lookup);
    }
    return lookup;
  }

  /**
   * User-group handle → ID (cached 10 min, one lookup shared by concurrent callers). A token without
   * usergroups:read cannot list groups: the group then counts as not found (a condition), not as an error.
   */
  async groupId(handle: string): Promise<string | undefined> {
    return (await this.#groupMap()).get(handle.replace(/^@/, ''));
  }

  /** handle → ID of every user group, as groupId describes (shared with the channel policy's lookups). */
  async #groupMap(): Promise<Map<string, string>> {
    if (this.#groups === undefined || this.#clock.now() - this.#groups.at > 600_000) {
      this.#groupsLookup ??= this.port
        .listUserGroups()
        .catch((error: unknown) => {
          if (error instanceof PermanentError) return new Map<string, string>();
          throw error;
        })
        .then((map) => {
          this.#groups = { map, at: this.#clock.now() };
          return map;
        })
        .finally(() => (this.#groupsLookup = undefined));
      await this.#groupsLookup;
    }
    return this.#groups?.map ?? new Map<string, string>();
  }

  /** A reconcile: converge on the spec, Secret and rules as they are now. */
  async reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    this.lastTest ??= input.object.status?.lastTest; // a restart must not post the same test again
    let result: ReconcileResult;
    try {
      result = await this.#reconcile(input);
    } finally {
      // whatever went wrong above, waiting alerts are released when their channel works, failed when too old
      this.#releaseHeld();
    }
    let after = result?.requeueAfterMs ?? Infinity;
    if (this.dispatcher.heldRefs().length > 0) after = Math.min(after, input.parkedRecheckIntervalMs);
    after = Math.min(after, this.#refreshWakeupMs());
    return Number.isFinite(after) ? { requeueAfterMs: after } : result;
  }

  async #reconcile(input: ReconcileInput): Promise<ReconcileResult> {
    const object = applyDefaults(input.object);
    this.object = object;
    const log = this.#hooks.log;
    // What the API server cannot check (label selector syntax…) is checked here, with the same messages.
    const validation = validateSlackIntegration(input.object);
    if (!validation.ok) {
      this.problem = {
        reason: Reasons.InvalidSpec,
        message: validation.errors
          .slice(0, 5)
          .map((e) => `${e.path}: ${e.message}`)
          .join('; '),
        stalled: true,
      };
      this.#credentials = undefined;
      return undefined;
    }
    if (!input.served) {
      this.#credentials = undefined;
      this.problem = {
        reason: Reasons.NamespaceNotAllowed,
        message: `integrations are served only in the operator's integration namespaces; "${this.namespace}" is not one (--integration-namespaces)`,
        stalled: true,
      };
      this.port = noTokenPort;
      this.dispatcher.setPort(noTokenPort);
      return undefined;
    }
    // Before the token is read: it must not go to a URL that would carry it in clear.
    const insecure = insecureApiUrlProblem(object.spec.apiURL, input.allowInsecureApiURL === true);
    if (insecure !== undefined) {
      this.#dropToken(Reasons.InsecureAPIURL, insecure);
      return undefined;
    }
    this.#keepInstallLink(object, input.secret);
    // --- the token: read from its Secret, refreshed first when it is a rotating one that is due
    const read = readCredentials(object, input.secret);
    if (!read.ok) {
      this.#credentials = undefined;
      this.#rotation.reset();
      const install =
        this.#install === undefined
          ? ''
          : `; install the app with the link in status.install.url (jobherald install-url ${this.name} -n ${this.namespace})`;
      this.#dropToken(read.reason, `${read.message}${install}`);
      return undefined;
    }
    const credentials = await this.#refreshIfDue(object, input.secret, read.credentials);
    if (credentials === undefined) return { requeueAfterMs: input.recheckIntervalMs };
    this.#credentials = credentials;
    const token = credentials.token;
    const hash = tokenHash(token, object.spec.apiURL);
    if (hash !== this.#tokenHash) {
      this.#tokenHash = hash;
      this.port = this.#hooks.createSlackClient({
        token,
        apiURL: object.spec.apiURL,
        timeoutMs: this.#hooks.slackTimeoutMs,
      });
      this.dispatcher.setPort(this.port);
      this.auth = undefined;
      this.#directory = undefined;
      this.#lastDirectory = undefined; // maybe another workspace
      this.#users.clear();
      this.#groups = undefined;
    }
    // --- auth.test, re-checked every recheck interval
    const nowMs = this.#clock.now();
    if (this.auth === undefined || nowMs - this.#authAt > input.recheckIntervalMs) {
      try {
        this.auth = await this.port.authTest();
        this.#authAt = nowMs;
        this.problem = undefined;
        this.dispatcher.resumeIntegration();
      } catch (error) {
        if (error instanceof AuthError && error.code === 'token_expired' && this.#canRefresh()) {
          // a rotating token outlived its expires-at (a long outage, a wrong clock): refresh it at once
          this.#expiredToken = this.#credentials?.token;
          this.auth = undefined;
          this.problem = authProblem(error.code, error.message);
          return { requeueAfterMs: 0 };
        }
        if (error instanceof AuthError || error instanceof PermanentError) {
          this.auth = undefined;
          this.problem = authProblem(error.code, error.message);
          return { requeueAfterMs: input.recheckIntervalMs };
        }
        this.problem = { reason: Reasons.SlackUnavailable, message: describe(error) };
        throw error;
      }
    }
    this.missingScopes =
      this.auth === undefined ? [] : missingScopes(this.auth.scopes, neededScopes(object.spec, input.rules));
    if (this.suspended) return { requeueAfterMs: input.recheckIntervalMs };

    // --- channels and membership
    try {
      await this.#reconcileMembership(object, input.desired, input.recheckIntervalMs);
    } catch (error) {
      if (error instanceof AuthError) {
        this.auth = undefined;
        this.problem = authProblem(error.code, error.message);
        return { requeueAfterMs: input.recheckIntervalMs };
      }
      throw error;
    }
    // parked channels that are usable again get their queues back (held alerts: see reconcile())
    for (const destination of [...this.parked]) {
      const state = this.channels.find((c) => c.id === destination);
      if (state !== undefined && isUsable(state)) {
        this.parked.delete(destination);
        this.dispatcher.resume(destination);
        log.info({ integration: this.key, destination }, 'channel usable again; resuming its queue');
      }
    }
    // --- "Send test" (GitOps-friendly: change spec.testNonce)
    const nonce = object.spec.testNonce ?? '';
    if (nonce !== '' && nonce !== this.lastTest?.nonce)
      await this.#sendTest(nonce, new Date(this.#clock.now()));

    const waiting =
      this.parked.size > 0 ||
      this.dispatcher.heldRefs().length > 0 ||
      this.channels.some((c) => !isUsable(c));
    return { requeueAfterMs: waiting ? input.parkedRecheckIntervalMs : input.recheckIntervalMs };
  }

  /**
   * An install link while spec.oauth is set and the operator serves OAuth: kept across restarts (read back from
   * status), issued anew when it was used (the token Secret says which link installed it) or expires within
   * the hour. Links live 24 hours.
   */
  #keepInstallLink(object: SlackIntegration, secret: (name: string) => CachedSecret | undefined): void {
    if (this.#hooks.oauthRedirectURL === undefined || object.spec.oauth === undefined) {
      this.#install = undefined;
      return;
    }
    const client = clientSecretOf(object, secret);
    this.#clientSecret = client.ok ? client.clientSecret : undefined;
    this.#install ??= linkFromURL(object.status?.install?.url);
    const now = this.#clock.now();
    const used =
      this.#install !== undefined &&
      secret(object.spec.tokenSecretRef.name)?.annotations?.[INSTALLED_WITH_ANNOTATION] ===
        this.#install.nonce;
    if (this.#install === undefined || used || this.#install.expiresAt - now < 3_600_000)
      this.#install = { nonce: newNonce(), expiresAt: now + 24 * 3_600_000 };
  }

  /**
   * spec.onDelete, on deletion: revoke the bot token or uninstall the app. A token Slack already refuses counts
   * as removed; anything else is reported for the caller to retry until its deadline.
   */
  async removeFromSlack(
    object: SlackIntegration,
    mode: 'RevokeToken' | 'UninstallApp',
    secret: (name: string) => CachedSecret | undefined,
    allowInsecureApiURL: boolean,
  ): Promise<{ ok: boolean; message: string }> {
    const read = readCredentials(object, secret);
    // a namespace being deleted takes the Secret first: the token last read is still the one to remove
    const token = read.ok ? read.credentials.token : this.#credentials?.token;
    if (token === undefined)
      return { ok: true, message: `nothing to remove in Slack: ${read.ok ? '' : read.message}` };
    const insecure = insecureApiUrlProblem(object.spec.apiURL, allowInsecureApiURL);
    if (insecure !== undefined) return { ok: false, message: insecure };
    const client = clientSecretOf(object, secret);
    if (mode === 'UninstallApp' && !client.ok) return { ok: false, message: client.message };
    const app = this.#hooks.createSlackAppClient({
      clientId: client.ok ? client.clientId : '',
      clientSecret: client.ok ? client.clientSecret : '',
      apiURL: object.spec.apiURL,
      timeoutMs: this.#hooks.slackTimeoutMs,
    });
    try {
      if (mode === 'UninstallApp') await app.uninstall(token);
      else await app.revoke(token);
      return {
        ok: true,
        message:
          mode === 'UninstallApp'
            ? 'uninstalled the Slack app from the workspace (apps.uninstall)'
            : 'revoked the bot token (auth.revoke)',
      };
    } catch (error) {
      if (error instanceof AuthError)
        return { ok: true, message: `the token no longer works (${error.code}): nothing left to remove` };
      return { ok: false, message: describe(error) };
    }
  }

  /** Whether the token in use has a refresh token and the app credentials to spend it are configured. */
  #canRefresh(): boolean {
    return this.#credentials?.refreshToken !== undefined && this.object?.spec.oauth !== undefined;
  }

  /** When the next reconcile must run for the token's sake (ms from now), Infinity when never. */
  #refreshWakeupMs(): number {
    const credentials = this.#credentials;
    if (credentials === undefined) return Infinity;
    const due = refreshAfter(credentials);
    if (due === undefined || this.object?.spec.oauth === undefined) return Infinity;
    const at = Math.max(due, this.#refreshNotBefore);
    return Math.max(0, at - this.#clock.now());
  }

  /**
   * The credentials to use: refreshed first when due (REFRESH_MARGIN_MS before expiry, or Slack said
   * token_expired). Undefined when there is no usable token and no way to get one now (`problem` says why).
   * A refresh that fails while the token still works leaves it in use and says why in status.token.
   */
  async #refreshIfDue(
    object: SlackIntegration,
    secret: (name: string) => CachedSecret | undefined,
    credentials: Credentials,
  ): Promise<Credentials | undefined> {
    const now = this.#clock.now();
    const expired =
      this.#expiredToken === credentials.token ||
      (credentials.expiresAt !== undefined && credentials.expiresAt <= now);
    const due = refreshAfter(credentials);
    if (due === undefined) {
      this.#refreshError = undefined;
      if (expired && isRotating(credentials)) {
        this.#dropToken(
          Reasons.TokenExpired,
          `the rotating token in Secret "${credentials.secretName}" expired and the Secret holds no refresh-token to renew it: install the app again, or put a new token and refresh token in the Secret`,
        );
        return undefined;
      }
      return credentials;
    }
    if (!expired && !this.#rotation.hasUnstored && now < due) {
      if (object.spec.oauth !== undefined) this.#refreshError = undefined; // the last failure is behind us
      return credentials;
    }
    const client = clientSecretOf(object, secret);
    if (!client.ok) {
      this.#refreshError = client.message;
      this.#refreshNotBefore = now + REFRESH_RETRY_MS; // look again later, not at every wake-up
      if (!expired) return credentials;
      this.#dropToken(client.reason, `the rotating token expired; ${client.message}`);
      return undefined;
    }
    // after a failure, not before the backoff — an expired token included, or every wake-up would call Slack;
    // meanwhile an expired token says why its refresh failed
    if (now < this.#refreshNotBefore) {
      if (!expired) return credentials;
      const last = this.#lastRefreshFailure ?? { reason: Reasons.Retrying, stalled: false };
      return this.#stopExpired(
        last.reason,
        this.#refreshError ?? 'waiting to retry the refresh',
        last.stalled,
      );
    }
    const app = this.#hooks.createSlackAppClient({
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      apiURL: object.spec.apiURL,
      timeoutMs: this.#hooks.slackTimeoutMs,
    });
    const outcome = await this.#rotation.refresh(object, credentials, app);
    const log = this.#hooks.log;
    switch (outcome.kind) {
      case 'refreshed':
      case 'adopted': {
        this.#expiredToken = undefined;
        this.#refreshError = undefined;
        this.#refreshNotBefore = 0;
        const expiresAt = outcome.credentials.expiresAt;
        log.info(
          {
            integration: this.key,
            secret: outcome.credentials.secretName,
            ...(expiresAt === undefined ? {} : { expiresAt: iso(new Date(expiresAt)) }),
          },
          outcome.kind === 'refreshed'
            ? 'refreshed the rotating bot token'
            : 'using the newer token found in the Secret',
        );
        return outcome.kind === 'refreshed'
          ? { ...outcome.credentials, refreshedAt: iso(new Date(now)) }
          : outcome.credentials;
      }
      case 'unstored':
        // the old token goes on working meanwhile; the granted one is used once stored
        this.#refreshError = outcome.message;
        this.#refreshNotBefore = now + 2_000;
        log.warn({ integration: this.key }, outcome.message);
        return expired ? this.#stopExpired(Reasons.Retrying, outcome.message, false) : credentials;
      case 'failed':
        this.#lastRefreshFailure = { reason: outcome.reason, stalled: outcome.stalled };
        this.#refreshError = outcome.message;
        this.#refreshNotBefore = now + (outcome.stalled ? 5 * 60_000 : REFRESH_RETRY_MS);
        log.warn({ integration: this.key, reason: outcome.reason }, outcome.message);
        return expired ? this.#stopExpired(outcome.reason, outcome.message, outcome.stalled) : credentials;
    }
  }

  /**
   * status.install: the link signed with the current client secret. lastAttempt is never written from here:
   * the OAuth listener (any replica) patches it, and a JSON merge patch of `install: {url, expiresAt}` keeps
   * it, so a status write built from a cache that has not seen the newest attempt cannot undo it. Without an
   * install link, `install` is left alone (a past attempt stays readable).
   */
  #installStatus(object: SlackIntegration): SlackIntegrationStatus['install'] {
    const oauth = object.spec.oauth;
    const redirect = this.#hooks.oauthRedirectURL;
    const link = this.#install;
    const client = this.#clientSecret;
    if (oauth === undefined || redirect === undefined || link === undefined || client === undefined)
      return undefined;
    return {
      url: installURL({
        apiURL: object.spec.apiURL,
        clientID: oauth.clientID,
        clientSecret: client,
        redirectURL: redirect,
        scopes: installScopes(object.spec.membership?.leaveUnused === true),
        teamID: object.spec.workspace?.teamID,
        state: { namespace: this.namespace, name: this.name, ...link },
      }),
      expiresAt: iso(new Date(link.expiresAt)),
    };
  }

  #stopExpired(reason: string, message: string, stalled: boolean): undefined {
    this.problem = { reason, message: `the rotating token expired; ${message}`, stalled };
    this.auth = undefined;
    return undefined;
  }

  #dropToken(reason: string, message: string): void {
    this.#credentials = undefined; // no token: nothing to refresh, no wake-up for it
    this.problem = { reason, message, stalled: true };
    this.auth = undefined;
    this.#tokenHash = undefined;
    this.port = noTokenPort;
    this.dispatcher.setPort(noTokenPort);
  }

  async #reconcileMembership(
    object: SlackIntegration,
    desired: DesiredChannel[],
    maxAgeMs: number,
  ): Promise<void> {
    const membership = object.spec.membership ?? {};
    // Only channels some rule may use are looked for, joined, listed or tested (docs/adr/0013).
    const allowed = (namespace: string, ref: string) => this.channelAllowed(namespace, ref);
    desired = permittedChannels(desired, allowed);
    const needsLookup = desired.some((d) => {
      const ref = parseChannelRef(d.ref);
      return ref.kind === 'name'
        ? !this.#directory?.byName.has(ref.name)
        : !this.#directory?.byId.has(ref.id);
    });
    const age = this.#clock.now() - (this.#directory?.at ?? 0);
    if (this.#directory === undefined || age > maxAgeMs || (needsLookup && age > 5_000)) {
      await this.#refreshDirectory();
    }
    const directory = this.#directory!;
    desired = permittedChannels(desired, allowed); // now with Slack's answer: nothing is pending any more
    const previous = this.channels.length > 0 ? this.channels : (object.status?.channels ?? []);
    const resolve = (ref: ReturnType<typeof parseChannelRef>): ResolvedChannel | undefined => {
      const c = ref.kind === 'id' ? directory.byId.get(ref.id) : directory.byName.get(ref.name);
      if (c !== undefined) {
        return { id: c.id, name: c.name, private: c.isPrivate, archived: c.isArchived, isMember: c.isMember };
      }
      // Slack hides a private channel from a bot that is not in it. One we saw before as private (the bot
      // was removed from it) still exists: it needs an invite, it is not "not found".
      const known = previous.find(
        (p) =>
          p.private === true &&
          p.id !== undefined &&
          (ref.kind === 'id' ? p.id === ref.id : p.name === ref.name),
      );
      return known?.id === undefined
        ? undefined
        : { id: known.id, name: known.name, private: true, archived: false, isMember: false };
    };
    const plan = planMembership({
      desired,
      resolve,
      join: membership.join ?? true,
      leaveUnused: membership.leaveUnused ?? false,
      joinedByOperator: joinedByOperator(this.channels.length > 0 ? this.channels : object.status?.channels),
      botName: this.auth !== undefined ? botHandle(this.auth) : 'jobherald',
    });
    let channels = plan.channels;
    const botName = this.auth !== undefined ? botHandle(this.auth) : 'jobherald';
    const joined = (id: string, error: string | undefined): void => {
      channels = channels.map((c) => (c.id === id ? applyJoinResult(c, error, botName) : c));
    };
    for (const action of plan.actions) {
      if (action.action === 'join') {
        try {
          await this.port.join(action.channelId);
          joined(action.channelId, undefined);
          const c = directory.byId.get(action.channelId);
          if (c !== undefined) c.isMember = true;
        } catch (error) {
          if (error instanceof AuthError || error instanceof RetryableError) throw error;
          joined(action.channelId, error instanceof JobheraldError ? error.code : 'unknown_error');
        }
      } else {
        try {
          await this.port.leave(action.channelId);
          const c = directory.byId.get(action.channelId);
          if (c !== undefined) c.isMember = false;
        } catch (error) {
          if (error instanceof AuthError || error instanceof RetryableError) throw error;
          this.#hooks.log.warn(
            { integration: this.key, channel: action.channelName },
            `leave failed: ${describe(error)}`,
          );
        }
      }
    }
    this.channels = channels;
  }

  async #refreshDirectory(): Promise<void> {
    let conversations: Conversation[];
    try {
      conversations = await this.port.listConversations({ types: ['public_channel', 'private_channel'] });
    } catch (error) {
      // A token without groups:read can still see public channels.
      if (error instanceof PermanentError && error.code === 'missing_scope') {
        conversations = await this.port.listConversations({ types: ['public_channel'] });
      } else throw error;
    }
    const byId = new Map<string, Conversation>();
    const byName = new Map<string, Conversation>();
    for (const c of conversations) {
      byId.set(c.id, c);
      // a live channel wins over an archived one of the same name
      const existing = byName.get(c.name);
      if (existing === undefined || (existing.isArchived && !c.isArchived)) byName.set(c.name, c);
    }
    this.#directory = { byId, byName, at: this.#clock.now() };
    this.#lastDirectory = this.#directory;
  }

  async #sendTest(nonce: string, now: Date): Promise<void> {
    const results: TestResult[] = [];
    for (const channel of this.channels) {
      if (!isUsable(channel) || channel.id === undefined) {
        results.push({ channel: channel.name, result: 'Failed', error: channel.state });
        continue;
      }
      try {
        const message = renderTestMessage({
          integration: { namespace: this.namespace, name: this.name },
          nonce,
          clusterName: this.clusterName,
          usedBy: channel.usedBy,
        });
        const posted = await this.port.postMessage(channel.id, message);
        results.push({ channel: channel.name, result: 'Delivered', ts: posted.ts });
      } catch (error) {
        results.push({
          channel: channel.name,
          result: 'Failed',
          error: error instanceof JobheraldError ? error.code : 'unknown_error',
        });
      }
    }
    this.lastTest = { nonce, time: iso(now), results };
  }

  /** The status to write, from what the last reconcile found. */
  status(object: SlackIntegration, now: Date): SlackIntegrationStatus {
    const generation = object.metadata.generation ?? 0;
    let conditions = this.conditions.length > 0 ? this.conditions : (object.status?.conditions ?? []);
    const findings: Health[] = [];
    if (this.problem !== undefined) {
      conditions = setCondition(
        conditions,
        {
          type: ConditionTypes.Authenticated,
          status: 'False',
          ...this.problem,
          observedGeneration: generation,
        },
        now,
      );
      findings.push({ state: 'Degraded', ...this.problem });
    } else if (this.auth !== undefined) {
      conditions = setCondition(
        conditions,
        {
          type: ConditionTypes.Authenticated,
          status: 'True',
          reason: Reasons.Authenticated,
          message: `authenticated to ${this.auth.team} as ${botHandle(this.auth)}`,
          observedGeneration: generation,
        },
        now,
      );
      const channelsReady = channelsReadyCondition(this.channels);
      conditions = setCondition(
        conditions,
        { type: ConditionTypes.ChannelsReady, ...channelsReady, observedGeneration: generation },
        now,
      );
      const missing = this.missingScopes;
      conditions = setCondition(
        conditions,
        missing.length === 0
          ? {
              type: ConditionTypes.ScopesGranted,
              status: 'True',
              reason: Reasons.ScopesGranted,
              message: 'the token has every scope the rules need',
              observedGeneration: generation,
            }
          : {
              type: ConditionTypes.ScopesGranted,
              status: 'False',
              reason: Reasons.MissingScope,
              message: missingScopeMessage(missing),
              observedGeneration: generation,
            },
        now,
      );
      // A feature some rule uses is that rule's problem (its Ready says so, ScopesGranted here lists them all),
      // as channel problems are; a token that cannot post at all is the integration's.
      if (missing.some((n) => n.scope === 'chat:write') && !this.suspended)
        findings.push({
          state: 'Degraded',
          reason: Reasons.MissingScope,
          message: missingScopeMessage(missing),
        });
      // Ready is about the integration itself (spec, token, Slack): a channel one rule names belongs to that
      // rule's Ready and to ChannelsReady above, not here, or one tenant's typo would mark the integration
      // (and every other tenant's view of it) not Ready (docs/adr/0013).
      if (this.suspended) findings.push({ state: 'Suspended', message: 'suspended: no messages are sent' });
    } else {
      findings.push({ state: 'Progressing', message: 'authenticating' });
    }
    conditions = summarizeReady(conditions, worstHealth(findings), generation, now);
    this.conditions = conditions;
    const status: SlackIntegrationStatus = { observedGeneration: generation, conditions };
    if (this.auth !== undefined) {
      status.workspace = {
        id: this.auth.teamId,
        name: this.auth.team,
        url: this.auth.url,
        botUserID: this.auth.userId,
      };
      status.scopes = [...this.auth.scopes].sort();
    }
    status.channels = this.channels;
    status.channelsReady = channelsReadySummary(this.channels);
    const install = this.#installStatus(object);
    if (install !== undefined) status.install = install;
    const attempt = object.status?.install?.lastAttempt;
    if (attempt !== undefined)
      status.conditions = this.conditions = setCondition(
        this.conditions,
        {
          type: ConditionTypes.Installed,
          status: attempt.result === 'Installed' ? 'True' : 'False',
          reason: attempt.reason,
          message: attempt.message,
          observedGeneration: generation,
        },
        now,
      );
    const credentials = this.#credentials;
    if (credentials !== undefined && isRotating(credentials)) {
      const due = refreshAfter(credentials);
      status.token = {
        secretName: credentials.secretName,
        ...(credentials.expiresAt === undefined ? {} : { expiresAt: iso(new Date(credentials.expiresAt)) }),
        ...(credentials.refreshedAt === undefined ? {} : { refreshedAt: credentials.refreshedAt }),
        ...(due === undefined || object.spec.oauth === undefined
          ? {}
          : { refreshAfter: iso(new Date(Math.max(due, this.#refreshNotBefore, 0))) }),
        ...(this.#refreshError === undefined ? {} : { refreshError: this.#refreshError.slice(0, 1024) }),
      };
    }
    if (this.lastTest !== undefined) status.lastTest = this.lastTest;
    return status;
  }
}

/** What a person reads: which scopes, what they break, and what to do. */
const missingScopeMessage = (missing: readonly ScopeNeed[]): string =>
  `the token lacks ${describeMissing(missing)}: add the scopes to the Slack app (OAuth & Permissions), reinstall it and put the new token in the Secret`.slice(
    0,
    1024,
  );

/** Slack's auth error codes and the reason each is reported with. */
const AUTH_REASONS: Readonly<Record<string, string>> = {
  token_expired: Reasons.TokenExpired,
  token_revoked: Reasons.TokenRevoked,
  account_inactive: Reasons.AccountInactive,
  missing_scope: Reasons.MissingScope,
  invalid_auth: Reasons.InvalidAuth,
  not_authed: Reasons.InvalidAuth,
};

function authProblem(code: string, message: string): { reason: string; message: string; stalled: boolean } {
  // Not Slack answering (a proxy's page, a wrong apiURL): not the token's fault; retried, and said as it is.
  if (code === 'invalid_response' || code.startsWith('http_'))
    return { reason: Reasons.SlackUnavailable, message, stalled: false };
  return {
    reason: AUTH_REASONS[code] ?? Reasons.AuthFailed,
    message: `Slack said ${code}: ${message}`,
    stalled: true,
  };
}

/** The bot's name for humans (`/invite @name`): auth.test's user, else its user ID. */
const botHandle = (auth: AuthInfo): string => auth.user ?? auth.userId;

function splitJob(job: string): { namespace: string; name: string } {
  const slash = job.indexOf('/');
  return { namespace: job.slice(0, slash), name: job.slice(slash + 1) };
}
