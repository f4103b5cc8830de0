// .github/workflows/ checked with actionlint (deploy/build-actionlint.sh, cached) and ShellCheck (Debian's
// shellcheck, which actionlint runs on every `run:` script): clean as they are, and broken workflows are
// flagged, so the check can fail. Actions are pinned to commit SHAs, which actionlint cannot look up, so a
// second pass lints the same text with each pin read as the version tag in its comment: then the inputs of the
// actions actionlint knows are checked too. The release workflow cannot run here (no registry, no GitHub
// OIDC); what it promises is asserted on its text, and its version check (.github/scripts/release-version.sh)
// is run.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHART, ROOT } from '../support/chart.ts';
import { GO_TOOL_BUILD_TIMEOUT_MS, prepareGoTool, runGoTool } from '../support/go-tools.ts';

const WORKFLOWS = join(ROOT, '.github/workflows');
const VERSION_SCRIPT = join(ROOT, '.github/scripts/release-version.sh');
const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const text = (file: string): string => readFileSync(join(WORKFLOWS, file), 'utf8');
/** `uses: owner/repo@<40 hex> # vX.Y.Z`: a pin and the release tag it is. */
const PIN = /^(\s*-?\s*uses:\s*)([\w.-]+\/[\w./-]+)@([0-9a-f]{40}) # (v(\d+)\.\d+\.\d+)\s*$/gm;

interface LintError {
  message: string;
  filepath: string;
  line: number;
  kind: string;
}
/** ShellCheck's path, or why there is none: each lint then fails with it (see beforeAll). */
let shellcheck: string | Error;

/** actionlint's findings, from files or from `input` (named `name`): ShellCheck on, pyflakes off (no Python). */
function actionlint(target: { files: string[] } | { input: string; name: string }): LintError[] {
  if (shellcheck instanceof Error) throw shellcheck;
  const args = ['-no-color', '-format', '{{json .}}', `-shellcheck=${shellcheck}`, '-pyflakes='];
  const run =
    'files' in target
      ? runGoTool('actionlint', [...args, ...target.files])
      : runGoTool('actionlint', [...args, '-stdin-filename', target.name, '-'], { input: target.input });
  // 0: nothing found, 1: problems found; anything else is actionlint failing to run
  expect([0, 1], run.stderr).toContain(run.status);
  const errors = (JSON.parse(run.stdout || '[]') ?? []) as LintError[];
  expect(errors.length > 0, run.stdout).toBe(run.status === 1);
  return errors;
}
const pinsAsTags = (workflow: string): string => workflow.replace(PIN, '$1$2@v$5');

// A throwing hook would only mark the tests skipped: what is missing is kept instead, and each lint fails with it.
beforeAll(() => {
  prepareGoTool('actionlint'); // built once by deploy/build-actionlint.sh (about 15 s cold), then cached
  try {
    shellcheck = execFileSync('sh', ['-c', 'command -v shellcheck'], { encoding: 'utf8' }).trim();
  } catch {
    shellcheck = new Error(
      'shellcheck is not installed (apt-get install shellcheck): actionlint checks run: scripts with it',
    );
  }
}, GO_TOOL_BUILD_TIMEOUT_MS);

describe('actionlint on .github/workflows', () => {
  it('finds the release and CI workflows', () => {
    expect(files).toEqual(expect.arrayContaining(['ci.yml', 'release.yml']));
  });

  it('finds nothing wrong in any of them', () => {
    expect(actionlint({ files: files.map((f) => join(WORKFLOWS, f)) })).toEqual([]);
  });

  it("finds nothing wrong with each pin read as its version tag (so that known actions' inputs are checked)", () => {
    for (const file of files) {
      const asTags = pinsAsTags(text(file));
      expect(asTags).not.toMatch(/@[0-9a-f]{40}/);
      expect(actionlint({ input: asTags, name: file })).toEqual([]);
    }
  });

  // [what is broken, the workflow, the kind of finding actionlint reports, what it says]
  const broken: [string, string, string, RegExp][] = [
    ['a job without runs-on', 'jobs:\n  a:\n    steps:\n      - run: "true"\n', 'syntax-check', /runs-on/],
    [
      'an unknown permission scope',
      'permissions:\n  id_token: write\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: "true"\n',
      'permissions',
      /id_token/,
    ],
    [
      'an unknown context property',
      'jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ github.nope }}"\n',
      'expression',
      /nope/,
    ],
    [
      'untrusted input interpolated into a script',
      'jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo "${{ github.event.head_commit.message }}"\n',
      'expression',
      /potentially untrusted/,
    ],
    [
      'an unquoted variable in a script (ShellCheck)',
      'jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: cat $FILE\n',
      'shellcheck',
      /SC2086/,
    ],
    [
      'a misspelt input of docker/build-push-action@v7',
      'jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: docker/build-push-action@v7\n        with:\n          platfroms: linux/arm64\n',
      'action',
      /input "platfroms" is not defined/,
    ],
  ];
  it.each(broken)('flags %s', (_what, body, kind, message) => {
    const errors = actionlint({ input: `name: broken\non: push\n${body}`, name: 'broken.yml' });
    expect(errors.map((e) => e.kind)).toContain(kind);
    expect(errors.map((e) => e.message).join('\n')).toMatch(message);
  });
});

describe('action pins', () => {
  it('pins every action to a full commit SHA, with the release tag it is in a comment', () => {
    for (const file of files) {
      const uses = [...text(file).matchAll(/^\s*-?\s*uses:\s*(.+)$/gm)].map((m) => m[0]);
      const pinned = [...text(file).matchAll(PIN)].map((m) => m[0]);
      expect(uses.length, file).toBeGreaterThan(0);
      expect(pinned, file).toEqual(uses);
    }
  });

  it('uses one pin per action across the workflows', () => {
    const pins = new Map<string, Set<string>>();
    for (const file of files)
      for (const [, , action, sha, tag] of text(file).matchAll(PIN))
        pins.set(action!, (pins.get(action!) ?? new Set()).add(`${sha} ${tag}`));
    for (const [action, seen] of pins) expect([...seen], action).toHaveLength(1);
  });
});

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: { push?: { tags?: string[]; branches?: string[] } };
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

describe('the release workflow (.github/workflows/release.yml)', () => {
  const release = load(text('release.yml')) as Workflow;
  const job = (name: string): Job => {
    const found = release.jobs[name];
    if (found === undefined) throw new Error(`no job ${name}`);
    return found;
  };
  const scripts = (name: string): string =>
    job(name)
      .steps.map((s) => s.run ?? '')
      .join('\n');
  const step = (name: string, action: string): Step => {
    const found = job(name).steps.find((s) => s.uses?.startsWith(`${action}@`));
    if (found === undefined) throw new Error(`job ${name} does not use ${action}`);
    return found;
  };

  it('runs on tags v*, with no permission unless a job asks for it', () => {
    expect(release.on).toEqual({ push: { tags: ['v*'] } });
    expect(release.permissions).toEqual({});
  });

  it("pushes the image to the chart's image.repository and the chart to oci://ghcr.io/jobherald/charts", () => {
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      image: { repository: string };
    };
    expect(release.env['IMAGE']).toBe(values.image.repository);
    expect(release.env['CHART_REPOSITORY']).toBe('oci://ghcr.io/jobherald/charts');
  });

  it('checks the versions first: nothing is built or pushed for a tag the versions do not match', () => {
    expect(scripts('version')).toContain('.github/scripts/release-version.sh "$GITHUB_REF_NAME"');
    expect(job('image').needs).toEqual('version');
    expect(job('chart').needs).toEqual(['version', 'image']);
  });

  it('builds the Containerfile for linux/amd64 and linux/arm64 with provenance and an SBOM, and pushes it', () => {
    expect(step('image', 'docker/setup-buildx-action')).toBeDefined();
    expect(step('image', 'docker/build-push-action').with).toMatchObject({
      file: 'Containerfile',
      platforms: 'linux/amd64,linux/arm64',
      push: true,
      provenance: 'mode=max',
      sbom: true,
    });
  });

  it('signs the image and the chart keyless, by digest, with the OIDC token of their jobs only', () => {
    for (const name of ['image', 'chart']) {
      expect(job(name).permissions).toEqual({ contents: 'read', packages: 'write', 'id-token': 'write' });
      expect(step(name, 'sigstore/cosign-installer')).toBeDefined();
    }
    expect(job('version').permissions).toEqual({ contents: 'read' });
    expect(scripts('image')).toContain('cosign sign --yes "$IMAGE@$DIGEST"');
    expect(scripts('image')).toContain(
      '--certificate-oidc-issuer https://token.actions.githubusercontent.com',
    );
    expect(scripts('chart')).toContain('cosign sign --yes "${CHART_REPOSITORY#oci://}/jobherald@$DIGEST"');
  });

  it('lints, packages and pushes the chart with helm', () => {
    expect(scripts('chart')).toMatch(
      /helm lint --strict charts\/jobherald[\s\S]*helm package[\s\S]*helm push/,
    );
  });
});

describe('the CI workflow (.github/workflows/ci.yml)', () => {
  it('runs .ci/run, the same entry point as CI here', () => {
    const ci = load(text('ci.yml')) as Workflow;
    expect(Object.values(ci.jobs).flatMap((j) => j.steps.map((s) => s.run))).toContain('bash .ci/run');
  });
});

describe('the release version check (.github/scripts/release-version.sh)', () => {
  const packageVersion = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
  let copies: string;
  beforeAll(() => {
    copies = mkdtempSync(join(tmpdir(), 'jobherald-release-version-'));
  });
  afterAll(() => {
    rmSync(copies, { recursive: true, force: true });
  });
  const check = (tag: string, cwd = ROOT) =>
    spawnSync('bash', [VERSION_SCRIPT, tag], { cwd, encoding: 'utf8' });

  it('passes the tag of the current versions and prints the version for $GITHUB_OUTPUT', () => {
    const run = check(`v${packageVersion}`);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(`version=${packageVersion}\n`);
    expect(run.status).toBe(0);
  });

  it('refuses another version, naming each file that disagrees', () => {
    const run = check('v99.0.0');
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `release: charts/jobherald/Chart.yaml version is '${packageVersion}', the tag v99.0.0 says 99.0.0`,
      `release: charts/jobherald/Chart.yaml appVersion is '${packageVersion}', the tag v99.0.0 says 99.0.0`,
      `release: package.json version is '${packageVersion}', the tag v99.0.0 says 99.0.0`,
    ]);
  });

  it('refuses a tag that is not vMAJOR.MINOR.PATCH', () => {
    for (const tag of [packageVersion, `v${packageVersion}.1`, 'vlatest']) {
      const run = check(tag);
      expect(run.status, tag).toBe(1);
      expect(run.stderr, tag).toContain('is not vMAJOR.MINOR.PATCH');
    }
  });

  it('refuses a chart whose appVersion (quoted) was not bumped with its version', () => {
    const dir = join(copies, 'bumped');
    mkdirSync(join(dir, 'charts/jobherald'), { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
    const chart = readFileSync(join(CHART, 'Chart.yaml'), 'utf8').replace(
      /^appVersion: .*$/m,
      "appVersion: '0.0.9'",
    );
    writeFileSync(join(dir, 'charts/jobherald/Chart.yaml'), chart);
    const run = check(`v${packageVersion}`, dir);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      `release: charts/jobherald/Chart.yaml appVersion is '0.0.9', the tag v${packageVersion} says ${packageVersion}\n`,
    );
  });
});
