// Condition types and reasons of jobherald's resources, in one place (docs/api.md lists them). Reasons are
// CamelCase, as metav1.Condition requires; they are part of the API: users alert on them, so add freely and
// rename never.

export const ConditionTypes = {
  /** the summary condition: `kubectl wait --for=condition=Ready`, Argo CD and Flux health */
  Ready: 'Ready',
  /** kstatus abnormal-true: present (True) only while the operator is still working or retrying */
  Reconciling: 'Reconciling',
  /** kstatus abnormal-true: present (True) only while the operator cannot progress without a human */
  Stalled: 'Stalled',
  /** SlackIntegration: the token works (auth.test) */
  Authenticated: 'Authenticated',
  /** SlackIntegration: every channel named by an allowed rule is usable */
  ChannelsReady: 'ChannelsReady',
  /** SlackIntegration: the token has every scope its rules' features need */
  ScopesGranted: 'ScopesGranted',
  /** SlackIntegration with spec.oauth: how the last OAuth install went (present once someone tried) */
  Installed: 'Installed',
} as const;
export type ConditionType = (typeof ConditionTypes)[keyof typeof ConditionTypes];

export const Reasons = {
  // ---- healthy
  /** Ready=True: everything the spec asks for is in place */
  Reconciled: 'Reconciled',
  /** alias kept for readers who look for it: Ready=True */
  Ready: 'Ready',
  /** Authenticated=True */
  Authenticated: 'Authenticated',
  /** ChannelsReady=True */
  ChannelsReady: 'ChannelsReady',
  /** ScopesGranted=True */
  ScopesGranted: 'ScopesGranted',
  /** Installed=True: the last OAuth install stored its token */
  Installed: 'Installed',
  // ---- OAuth install (Installed=False; the integration's Ready does not depend on them)
  /** the person cancelled on Slack's page (error=access_denied) */
  InstallDenied: 'InstallDenied',
  /** the link's state is not one jobherald signed for this integration */
  InstallLinkInvalid: 'InstallLinkInvalid',
  /** the link expired; status.install.url has a fresh one */
  InstallLinkExpired: 'InstallLinkExpired',
  /** the link was used already (each is accepted once) */
  InstallLinkUsed: 'InstallLinkUsed',
  /** Slack refused the code (used, expired, or for another redirect URL) */
  InstallCodeInvalid: 'InstallCodeInvalid',
  /** the install was into another workspace than spec.workspace */
  WrongWorkspace: 'WrongWorkspace',
  /** the install could not be completed for a reason on jobherald's side (the Secret could not be written) */
  InstallFailed: 'InstallFailed',
  /** ChannelsReady=True when no allowed rule names a channel yet */
  NoChannels: 'NoChannels',
  /** Ready=True on a suspended object: configuration accepted, nothing is sent */
  Suspended: 'Suspended',

  // ---- in progress
  /** Ready=Unknown / Reconciling=True: first reconcile or a new generation under way */
  Progressing: 'Progressing',
  /** Reconciling=True: a transient error, the operator retries with backoff */
  Retrying: 'Retrying',

  // ---- spec and tenancy (Stalled: a human must change something)
  /** the spec fails validation the API server could not do (selector, glob, link template) */
  InvalidSpec: 'InvalidSpec',
  /** NotificationRule: the referenced SlackIntegration does not exist */
  IntegrationNotFound: 'IntegrationNotFound',
  /** NotificationRule: the integration's allowedNamespaces does not admit the rule's namespace */
  NamespaceNotAllowed: 'NamespaceNotAllowed',
  /** NotificationRule: the rule selects other namespaces but its namespace is not trusted */
  CrossNamespaceNotAllowed: 'CrossNamespaceNotAllowed',
  /** NotificationRule: the integration exists but is not Ready (transient from the rule's view) */
  IntegrationNotReady: 'IntegrationNotReady',
  /** NotificationRule Ready=True: the rule is fine but its integration is suspended, so nothing is sent */
  IntegrationSuspended: 'IntegrationSuspended',

  // ---- Secret and token
  SecretNotFound: 'SecretNotFound',
  SecretKeyMissing: 'SecretKeyMissing',
  /** generic authentication failure */
  AuthFailed: 'AuthFailed',
  /** Slack `invalid_auth` / `not_authed` */
  InvalidAuth: 'InvalidAuth',
  /** Slack `token_revoked` */
  TokenRevoked: 'TokenRevoked',
  /** Slack `token_expired`: a rotating token that was not refreshed in time and cannot be refreshed now */
  TokenExpired: 'TokenExpired',
  /** oauth.v2.access said `invalid_refresh_token`: the refresh token was used already or revoked */
  RefreshTokenInvalid: 'RefreshTokenInvalid',
  /** oauth.v2.access said `invalid_client_id` / `bad_client_secret`: spec.oauth or its Secret is wrong */
  OAuthClientInvalid: 'OAuthClientInvalid',
  /** a rotating token expired and there is no spec.oauth to refresh it with */
  TokenRotationNotConfigured: 'TokenRotationNotConfigured',
  /** Slack `account_inactive`: app uninstalled or workspace deleted */
  AccountInactive: 'AccountInactive',
  /** Slack `missing_scope` */
  MissingScope: 'MissingScope',
  /** Slack unreachable, 5xx, or rate limited for long: transient */
  SlackUnavailable: 'SlackUnavailable',

  // ---- destinations
  ChannelNotFound: 'ChannelNotFound',
  ChannelArchived: 'ChannelArchived',
  /** private channel without the bot, or public channel with membership.join: false */
  InviteRequired: 'InviteRequired',
  UserNotFound: 'UserNotFound',
  UserGroupNotFound: 'UserGroupNotFound',
  /** NotificationRule: the integration's channelPolicy does not allow this channel for the rule's namespace */
  ChannelNotAllowed: 'ChannelNotAllowed',
  /** NotificationRule: the integration's channelPolicy does not allow mentioning this user group */
  UserGroupNotAllowed: 'UserGroupNotAllowed',
  /** SlackIntegration: spec.apiURL is plain http to a host that is not loopback (the token would travel in clear) */
  InsecureAPIURL: 'InsecureAPIURL',
  /** a delivery failed for good (details in status.deliveries) */
  DeliveryFailed: 'DeliveryFailed',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

/**
 * Reasons that need a human (change the spec, create the Secret, invite the bot…): Ready=False goes with
 * Stalled=True, so kstatus, Argo CD and Flux report the object as failed instead of progressing forever.
 * Every other False reason is treated as transient (Reconciling=True while the operator retries).
 */
export const STALLED_REASONS: ReadonlySet<string> = new Set<string>([
  Reasons.InvalidSpec,
  Reasons.IntegrationNotFound,
  Reasons.NamespaceNotAllowed,
  Reasons.CrossNamespaceNotAllowed,
  Reasons.SecretNotFound,
  Reasons.SecretKeyMissing,
  Reasons.AuthFailed,
  Reasons.InvalidAuth,
  Reasons.TokenRevoked,
  Reasons.TokenExpired,
  Reasons.RefreshTokenInvalid,
  Reasons.OAuthClientInvalid,
  Reasons.TokenRotationNotConfigured,
  Reasons.AccountInactive,
  Reasons.MissingScope,
  Reasons.ChannelNotFound,
  Reasons.ChannelArchived,
  Reasons.InviteRequired,
  Reasons.UserNotFound,
  Reasons.UserGroupNotFound,
  Reasons.ChannelNotAllowed,
  Reasons.UserGroupNotAllowed,
  Reasons.InsecureAPIURL,
]);
