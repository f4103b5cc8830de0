// Where a bot token may be sent: https, or loopback, unless the operator allows plain http elsewhere.
import { describe, expect, it } from 'vitest';
import { insecureApiUrlProblem, isLoopbackHost } from '../../../src/domain/api-url.ts';

describe('spec.apiURL', () => {
  it.each([
    undefined,
    '',
    'https://slack.com/api/',
    'https://slack-gov.com/api/',
    'https://proxy.internal:8443/slack/api/',
    'http://127.0.0.1:8800/api/',
    'http://127.42.0.9/api/',
    'http://127.1/api/', // WHATWG URL canonicalises it to 127.0.0.1
    'http://localhost:3000/api/',
    'http://LOCALHOST/api/',
    'http://[::1]:8800/api/',
  ])('accepts %s', (url) => {
    expect(insecureApiUrlProblem(url, false)).toBeUndefined();
  });

  it.each([
    'http://slack.example.com/api/',
    'http://10.0.0.7:8080/api/',
    'http://128.0.0.1/api/',
    'http://[::ffff:127.0.0.1]/api/',
    'http://localhost.example.com/api/',
    'http://0.0.0.0/api/',
  ])('refuses %s as InsecureAPIURL', (url) => {
    expect(insecureApiUrlProblem(url, false)).toContain('is not https and not loopback');
    expect(insecureApiUrlProblem(url, false)).toContain('--allow-insecure-slack-api-url');
  });

  it('accepts any http URL with --allow-insecure-slack-api-url', () => {
    expect(insecureApiUrlProblem('http://slack.example.com/api/', true)).toBeUndefined();
  });

  it('shows only the origin: never credentials, a path or a query', () => {
    const problem = insecureApiUrlProblem('http://user:hunter2@proxy.example.com:81/api/?key=s3cret', false);
    expect(problem).toContain('http://proxy.example.com:81');
    expect(problem).not.toMatch(/hunter2|s3cret|user|\/api/);
  });

  it('knows loopback hosts by their text only', () => {
    expect(isLoopbackHost('127.255.255.254')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('[::2]')).toBe(false);
    expect(isLoopbackHost('my-localhost')).toBe(false);
  });
});
