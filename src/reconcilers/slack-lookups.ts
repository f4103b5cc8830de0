// Names people write in rules, resolved through Slack and cached per integration: an email to a user ID
// (users.lookupByEmail, for DMs and mentions) and a user-group handle to its ID (usergroups.list). Concurrent
// callers share one lookup, so a burst of alerts costs one call, not one each.
import type { Clock } from '../delivery/clock.ts';
import { PermanentError } from '../errors.ts';
import type { SlackPort } from '../slack/port.ts';

/** How long an answer is kept: a found user or the group list 10 minutes, a not-found user 1 minute. */
const FOUND_MS = 600_000;
const NOT_FOUND_MS = 60_000;
const GROUPS_MS = 600_000;

export type UserLookup = { id?: string; error?: string };

export class SlackLookups {
  readonly #port: () => SlackPort;
  readonly #clock: Clock;
  readonly #users = new Map<string, UserLookup & { at: number }>();
  readonly #userLookups = new Map<string, Promise<UserLookup>>();
  #groups: { map: Map<string, string>; at: number } | undefined;
  #groupsLookup: Promise<Map<string, string>> | undefined;

  /** `port`: the integration's Slack client as it is now (it changes with the token) */
  constructor(port: () => SlackPort, clock: Clock) {
    this.#port = port;
    this.#clock = clock;
  }

  /** Another token (maybe another workspace): nothing cached holds. */
  clear(): void {
    this.#users.clear();
    this.#groups = undefined;
  }

  /** The user ID for an email. Transient errors reach the caller; Slack's verdicts are answers. */
  userId(email: string): Promise<UserLookup> {
    const key = email.trim().toLowerCase();
    const cached = this.#users.get(key);
    if (
      cached !== undefined &&
      this.#clock.now() - cached.at < (cached.id !== undefined ? FOUND_MS : NOT_FOUND_MS)
    ) {
      return Promise.resolve(cached);
    }
    let lookup = this.#userLookups.get(key);
    if (lookup === undefined) {
      lookup = this.#port()
        .lookupUserByEmail(key)
        .then(
          (id): UserLookup => ({ id }),
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
   * handle → ID of every user group. A token without usergroups:read cannot list groups: then there are none
   * (a group the rule names is "not found", a condition), not an error.
   */
  async groups(): Promise<Map<string, string>> {
    if (this.#groups === undefined || this.#clock.now() - this.#groups.at > GROUPS_MS) {
      this.#groupsLookup ??= this.#port()
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
}
