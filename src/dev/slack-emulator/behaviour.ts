// Switches for what nobody could confirm about real Slack (slack-behaviour.md §11). The defaults follow
// the documentation; a test that depends on the other answer sets it.
export interface Behaviour {
  /** HTTP status for `unknown_method`: 200 (default; any other status makes the SDK retry) or 404. */
  unknownMethodStatus: 200 | 404;
  /** chat.update text over 4,000 characters: `msg_too_long` (documented since 2025) or truncate to 40,000. */
  updateTextOverLimit: 'msg_too_long' | 'truncate';
  /** Characters of block text above which a message is refused with `msg_blocks_too_long` (~12-13k observed). */
  blocksTextLimit: number;
  /** conversations.leave when not a member: documented `{ok:false, not_in_channel:true}`, or `ok:true`. */
  leaveWhenNotMember: 'ok_false' | 'ok_true';
  /** auth.revoke with `test=1`: the value of `revoked`. */
  revokeTestModeRevoked: boolean;
  /** Body of a successful response_url POST: JSON `{"ok":true}` or plain `ok`. */
  responseUrlSuccess: 'json' | 'text';
  /** chat.postMessage whose thread_ts matches no message: post it anyway, or answer `thread_not_found`. */
  threadTsNotFound: 'post' | 'thread_not_found';
  /**
   * conversations.list applies type and archive filters after cutting a page, as Slack does, so pages
   * can be short (even empty) with more to come. `false` fills every page.
   */
  shortPages: boolean;
}

export const defaultBehaviour: Behaviour = {
  unknownMethodStatus: 200,
  updateTextOverLimit: 'msg_too_long',
  blocksTextLimit: 12_000,
  leaveWhenNotMember: 'ok_false',
  revokeTestModeRevoked: false,
  responseUrlSuccess: 'json',
  threadTsNotFound: 'post',
  shortPages: true,
};
