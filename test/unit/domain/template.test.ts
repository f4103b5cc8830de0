import { describe, expect, it } from 'vitest';
import {
  checkLinkTemplate,
  expandTemplate,
  isHttpUrl,
  unknownPlaceholders,
} from '../../../src/domain/template.ts';

const values = { namespace: 'data', name: 'etl 1', cronjob: 'nightly', uid: 'u-1', cluster: 'prod/eu' };

describe('link templates', () => {
  it('replaces every known placeholder with its URL-encoded value', () => {
    expect(
      expandTemplate('https://g.example.com/?q={namespace}/{name}&c={cronjob}&u={uid}&k={cluster}', values),
    ).toEqual({ ok: true, value: 'https://g.example.com/?q=data/etl%201&c=nightly&u=u-1&k=prod%2Feu' });
  });

  it('encodes values so they cannot add query parameters or fragments', () => {
    const out = expandTemplate('https://x/?job={name}', { ...values, name: 'a&admin=1#frag' });
    expect(out).toEqual({ ok: true, value: 'https://x/?job=a%26admin%3D1%23frag' });
  });

  it('leaves braces that are not placeholders alone', () => {
    expect(expandTemplate('https://x/?left={"ds":"loki"}', values)).toEqual({
      ok: true,
      value: 'https://x/?left={"ds":"loki"}',
    });
  });

  it('rejects unknown placeholders', () => {
    expect(unknownPlaceholders('https://x/{job}/{name}/{pod}')).toEqual(['job', 'pod']);
    const out = expandTemplate('https://x/{job}', values);
    expect(out.ok).toBe(false);
  });

  it('checks a template offline', () => {
    expect(checkLinkTemplate('https://grafana.example.com/explore?job={namespace}/{name}')).toBeUndefined();
    expect(checkLinkTemplate('https://x/{nam}')).toContain('unknown placeholder {nam}');
    expect(checkLinkTemplate('https://')).toContain('not a valid http(s) URL');
    expect(checkLinkTemplate('javascript:alert(1)')).toContain('not a valid http(s) URL');
  });

  it('isHttpUrl accepts only absolute http(s) URLs within the length limit', () => {
    expect(isHttpUrl('https://example.com/')).toBe(true);
    expect(isHttpUrl('http://example.com/')).toBe(true);
    expect(isHttpUrl('ftp://example.com/')).toBe(false);
    expect(isHttpUrl('/relative')).toBe(false);
    expect(isHttpUrl(`https://example.com/${'x'.repeat(3000)}`)).toBe(false);
  });
});
