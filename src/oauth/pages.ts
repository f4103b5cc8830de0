// The pages a person's browser lands on after Slack's install page: what happened and what to do next. Plain
// HTML, no script, nothing from the query echoed unescaped.
const escape = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface Page {
  status: number;
  title: string;
  /** plain-text paragraphs */
  paragraphs: string[];
}

export function renderPage(page: Page): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>jobherald: ${escape(page.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2b3a}
h1{font-size:1.4rem}code{background:#eef;padding:0 .2em}</style></head>
<body><h1>${escape(page.title)}</h1>
${page.paragraphs.map((p) => `<p>${escape(p)}</p>`).join('\n')}
</body></html>
`;
}
