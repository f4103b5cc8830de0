// Regular expressions shared by the CRD's CEL rules, their TypeScript twins and the domain. Each pattern is
// written so that RE2 (CEL's `matches`) and JavaScript read it the same way; test/unit/api/cel-twins.test.ts
// checks that the CRD rules use exactly these sources.

/** A Slack channel reference as a rule writes it: `name`, `#name`, or an ID (`C…`, `G…`). */
export const CHANNEL_REF = /^(#?[a-z0-9_-]{1,80}|[CG][A-Z0-9]{8,20})$/;

/** A channel ID (public `C…` or legacy private `G…`). Channel names are lowercase, so no name matches. */
export const CHANNEL_ID = /^[CG][A-Z0-9]{8,20}$/;

/** A user as a rule writes it: an email address, or a Slack user ID (`U…`, `W…`). */
export const SLACK_USER = /^([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}|[UW][A-Z0-9]{8,20})$/;

/** A Slack user ID. */
export const USER_ID = /^[UW][A-Z0-9]{8,20}$/;

/** A user-group handle (`data-oncall`, `@data-oncall`) or a user-group ID (`S…`). */
export const USERGROUP_REF = /^(@?[a-z0-9][a-z0-9._-]{0,79}|S[A-Z0-9]{8,20})$/;

/**
 * A channelPolicy channel entry: a name (`#` optional) that may be a glob (`*`, `?`, `[a-z]`, `[!0-9]`), or a
 * channel ID. Globs are lowercase like channel names, so an ID can never be a glob.
 */
export const CHANNEL_POLICY_ENTRY = /^(#?([a-z0-9_*?-]|\[[!^]?[a-z0-9_-]+\])+|[CG][A-Z0-9]{8,20})$/;

/** A channelPolicy user-group entry: a handle (`@` optional) that may be a glob, or a user-group ID (`S…`). */
export const USERGROUP_POLICY_ENTRY = /^(@?([a-z0-9._*?-]|\[[!^]?[a-z0-9._-]+\])+|S[A-Z0-9]{8,20})$/;

/** A user-group ID. */
export const USERGROUP_ID = /^S[A-Z0-9]{8,20}$/;

/** The characters a jobNames glob may use: name characters, `*`, `?`, and `[…]` classes. */
export const JOB_NAME_GLOB = /^([a-z0-9.*?-]|\[[!^]?[a-z0-9.-]+\])+$/;

/** RFC 1123 DNS label (namespace names). */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** RFC 1123 DNS subdomain (object names). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
