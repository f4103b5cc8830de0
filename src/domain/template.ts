// Link templates: `{namespace}`, `{name}`, `{cronjob}`, `{uid}` and `{cluster}` in a rule's link url are
// replaced with URL-encoded values from the Job. Only `{identifier}` counts as a placeholder, so literal
// braces elsewhere (a JSON query string) are left alone; an unknown `{identifier}` is an error, because it is
// almost always a typo.

export const TEMPLATE_PLACEHOLDERS = ['namespace', 'name', 'cronjob', 'uid', 'cluster'] as const;
export type Placeholder = (typeof TEMPLATE_PLACEHOLDERS)[number];
export type TemplateValues = Record<Placeholder, string>;

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const KNOWN: ReadonlySet<string> = new Set(TEMPLATE_PLACEHOLDERS);

export type TemplateResult = { ok: true; value: string } | { ok: false; error: string };

/** Placeholders in `template` that are not one of TEMPLATE_PLACEHOLDERS. */
export function unknownPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1] as string).filter((name) => !KNOWN.has(name));
}

/** Replace the placeholders with `encodeURIComponent` of their values. */
export function expandTemplate(template: string, values: TemplateValues): TemplateResult {
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) {
    return {
      ok: false,
      error: `unknown placeholder ${unknown.map((u) => `{${u}}`).join(', ')}; known placeholders are ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`,
    };
  }
  return {
    ok: true,
    value: template.replace(PLACEHOLDER, (_, name: string) =>
      encodeURIComponent(values[name as Placeholder]),
    ),
  };
}

/** Whether `url` is an absolute http(s) URL of at most `maxLength` characters. */
export function isHttpUrl(url: string, maxLength = 3000): boolean {
  if (url.length > maxLength || !URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === 'http:' || protocol === 'https:';
}

/** Check a link url template offline: known placeholders only, and an http(s) URL once expanded. */
export function checkLinkTemplate(template: string): string | undefined {
  const sample: TemplateValues = {
    namespace: 'ns',
    name: 'job',
    cronjob: 'cronjob',
    uid: '00000000-0000-0000-0000-000000000000',
    cluster: 'cluster',
  };
  const expanded = expandTemplate(template, sample);
  if (!expanded.ok) return expanded.error;
  if (!isHttpUrl(expanded.value))
    return 'link url is not a valid http(s) URL once its placeholders are filled in';
  return undefined;
}
