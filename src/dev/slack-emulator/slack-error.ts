// How a method handler says "Slack answers {ok:false, error}": it throws a SlackApiError, and the API
// route turns it into the HTTP 200 error envelope (slack-behaviour.md §1.2).
export class SlackApiError extends Error {
  readonly error: string;
  /** Fields Slack adds next to `error`: `needed`/`provided`, `errors`, `response_metadata`. */
  readonly extra: Record<string, unknown>;

  constructor(error: string, extra: Record<string, unknown> = {}) {
    super(error);
    this.name = 'SlackApiError';
    this.error = error;
    this.extra = extra;
  }
}

/** A successful answer; `ok: true`, `warning` and `response_metadata.warnings` are added by the route. */
export interface MethodResult {
  body: Record<string, unknown>;
  warnings?: string[];
  /** Human-readable `response_metadata.messages`, e.g. "[WARN] Your message was truncated…". */
  messages?: string[];
  /** Sent as is, no envelope: for Slack's odd shapes, like conversations.leave's `{ok:false, not_in_channel:true}`. */
  raw?: boolean;
}

export function success(
  body: Record<string, unknown> = {},
  extras: Omit<MethodResult, 'body'> = {},
): MethodResult {
  return { body, ...extras };
}
