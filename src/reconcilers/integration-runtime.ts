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
import { Reasons } from '../api/reasons.ts';
import { applyDefaults } from '../api/defaults.ts';
import { lastSpecChange } from '../api/spec-change.ts';
import { validateSlackIntegration } from '../api/validate.ts';
import { isUsable, parseChannelRef, type DesiredChannel } from '../domain/membership.ts';
import { renderDigest, renderTestMessage } from '../domain/render.ts';
import { missingScopes, neededScopes, type ScopeNeed } from '../domain/scopes.ts';
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
import { AuthError, describe, JobheraldError, PermanentError } from '../errors.ts';
import type { AuthInfo, SlackAppClientFactory, SlackClientFactory, SlackPort } from '../slack/port.ts';
import type { SecretStore } from './sinks.ts';
import { readCredentials, type CachedSecret, type Credentials } from './token-credentials.ts';
import { TokenRefresher } from './token-refresher.ts';
import { InstallLinks } from './install-links.ts';
import { removeFromSlack } from './slack-removal.ts';
import { SlackLookups, type UserLookup } from './slack-lookups.ts';
import { ChannelDirectory } from './channel-directory.ts';
import { syncMembership } from './membership-sync.ts';
import { integrationStatus } from './integration-status.ts';
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
  /** when a rotating token is refreshed */
  readonly #refresher: TokenRefresher;
  readonly #installLinks: InstallLinks;
  /** why the integration cannot send, if it cannot (condition reason + message) */
  problem: { reason: string; message: string; stalled?: boolean } | undefined;
  readonly #directory = new ChannelDirectory();
  channels: ChannelStatus[] = [];
  /** what the rules' features need that the token's scopes do not grant (auth.test's x-oauth-scopes) */
  missingScopes: ScopeNeed[] = [];
  readonly #lookups: SlackLookups;
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
    this.#refresher = new TokenRefresher({
      integration: key,
      secrets: hooks.secrets,
      clock: hooks.clock,
      log: hooks.log,
      createSlackAppClient: hooks.createSlackAppClient,
      slackTimeoutMs: hooks.slackTimeoutMs,
    });
    this.#installLinks = new InstallLinks(hooks.oauthRedirectURL);
    this.#lookups = new SlackLookups(() => this.port, hooks.clock);
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
        this.#directory.invalidate(); // Slack changed under us: list channels again
        hooks.log.info(
          { integration: key, destination, code },
          'channel unavailable; re-checking membership',
        );
        hooks.requeue(key);
      },
      onAuthError: (code, message) => {
        if (code === 'token_expired') this.#refresher.noteExpired(this.#credentials?.token);
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
    const c = this.#directory.find(ref);
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
      looked: this.#directory.looked,
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
    const groups = await this.#lookups.groups();
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

  /** The user ID for an email (cached; concurrent callers share one lookup: slack-lookups.ts). */
  userId(email: string): Promise<UserLookup> {
    return this.#lookups.userId(email);
  }

  /** User-group handle → ID; a token without usergroups:read finds none (a condition, not an error). */
  async groupId(handle: string): Promise<string | undefined> {
    return (await this.#lookups.groups()).get(handle.replace(/^@/, ''));
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
    after = Math.min(after, this.#refresher.wakeupMs(this.#credentials, this.object));
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
    this.#installLinks.keep(object, input.secret, this.#clock.now());
    // --- the token: read from its Secret, refreshed first when it is a rotating one that is due
    const read = readCredentials(object, input.secret);
    if (!read.ok) {
      this.#credentials = undefined;
      this.#refresher.reset();
      const install = this.#installLinks.offered
        ? `; install the app with the link in status.install.url (jobherald install-url ${this.name} -n ${this.namespace})`
        : '';
      this.#dropToken(read.reason, `${read.message}${install}`);
      return undefined;
    }
    const verdict = await this.#refresher.ensureFresh(object, input.secret, read.credentials);
    if (!verdict.ok) {
      if (verdict.drop) this.#dropToken(verdict.reason, verdict.message);
      else {
        this.problem = { reason: verdict.reason, message: verdict.message, stalled: verdict.stalled };
        this.auth = undefined;
      }
      return { requeueAfterMs: input.recheckIntervalMs };
    }
    const credentials = verdict.credentials;
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
      this.#directory.forget(); // maybe another workspace
      this.#lookups.clear();
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
        if (
          error instanceof AuthError &&
          error.code === 'token_expired' &&
          this.#refresher.canRefresh(this.#credentials, object)
        ) {
          // a rotating token outlived its expires-at (a long outage, a wrong clock): refresh it at once
          this.#refresher.noteExpired(this.#credentials?.token);
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

  /** spec.onDelete, on deletion (slack-removal.ts); the token last used when the Secret went first. */
  removeFromSlack(
    object: SlackIntegration,
    mode: 'RevokeToken' | 'UninstallApp',
    secret: (name: string) => CachedSecret | undefined,
    allowInsecureApiURL: boolean,
  ): Promise<{ ok: boolean; message: string }> {
    return removeFromSlack({
      object,
      mode,
      secret,
      lastToken: this.#credentials?.token,
      allowInsecureApiURL,
      createSlackAppClient: this.#hooks.createSlackAppClient,
      slackTimeoutMs: this.#hooks.slackTimeoutMs,
    });
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
    // Only channels some rule may use are looked for, joined, listed or tested (docs/adr/0013).
    const allowed = (namespace: string, ref: string) => this.channelAllowed(namespace, ref);
    desired = permittedChannels(desired, allowed);
    const directory = await this.#directory.current(
      this.port,
      desired.map((d) => d.ref),
      maxAgeMs,
      this.#clock.now(),
    );
    this.channels = await syncMembership({
      integration: this.key,
      object,
      port: this.port,
      directory,
      desired: permittedChannels(desired, allowed), // now with Slack's answer: nothing is pending any more
      previous: this.channels.length > 0 ? this.channels : (object.status?.channels ?? []),
      auth: this.auth,
      log: this.#hooks.log,
    });
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
    const status = integrationStatus(
      object,
      {
        conditions: this.conditions,
        problem: this.problem,
        auth: this.auth,
        suspended: this.suspended,
        channels: this.channels,
        missingScopes: this.missingScopes,
        install: this.#installLinks.status(object),
        token: this.#refresher.status(this.#credentials, object),
        lastTest: this.lastTest,
      },
      now,
    );
    this.conditions = status.conditions ?? [];
    return status;
  }
}

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

function splitJob(job: string): { namespace: string; name: string } {
  const slash = job.indexOf('/');
  return { namespace: job.slice(0, slash), name: job.slice(slash + 1) };
}
