// Where a SlackIntegration's bot token may be sent (spec.apiURL). The token travels in the Authorization
// header of every Web API call, so plain http would put it on the network in clear: only https, or http to
// this machine's loopback (the local Slack emulator), unless the operator was started with
// --allow-insecure-slack-api-url (a TLS-terminating sidecar on a Pod-local address, a lab).
//
// Pure: the URL is judged by its text (WHATWG URL parsing already canonicalises 127.1, 0x7f.0.0.1 and
// 2130706433 to 127.0.0.1); no name is resolved, so `localhost` is the only name accepted as loopback.

/** Whether `hostname` (as `new URL().hostname` gives it) is loopback: 127.0.0.0/8, [::1] or localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255) && octets[1] === '127';
}

/**
 * Why the operator refuses to send the token to `apiURL`, or undefined when it may (absent: Slack's own
 * https URL). The message shows only the URL's origin: a path or query could carry a secret of a proxy's.
 */
export function insecureApiUrlProblem(
  apiURL: string | undefined,
  allowInsecure: boolean,
): string | undefined {
  if (apiURL === undefined || apiURL === '' || allowInsecure) return undefined;
  if (!URL.canParse(apiURL)) return undefined; // the CRD's CEL rule (and InvalidSpec) say why
  const url = new URL(apiURL);
  if (url.protocol === 'https:' || isLoopbackHost(url.hostname)) return undefined;
  const origin = url.protocol === 'http:' ? url.origin : `${url.protocol}//${url.host}`;
  return (
    `spec.apiURL ${origin} is not https and not loopback: the bot token would cross the network unencrypted; ` +
    `use an https:// URL, or start the operator with --allow-insecure-slack-api-url`
  );
}
