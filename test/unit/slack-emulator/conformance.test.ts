// Conformance: every response the emulator gives for the covered methods validates against that
// method's success or error schema in Slack's OpenAPI spec (read in place from ../shared/reference,
// as in CI, never copied here). The spec dates from 2021; where slack-behaviour.md documents newer or
// more precise behaviour, the emulator follows the behaviour doc, and each such difference is an
// exception below, with its reason. An exception no response needs makes the test fail, so the list
// stays exact.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { recordResponses, type Recorded } from './conformance-scenario.ts';

const specPath = fileURLToPath(
  new URL('../../../../shared/reference/slack-web-api/slack_web_openapi_v2.json', import.meta.url),
);
const specPresent = existsSync(specPath);
if (!specPresent) console.warn(`conformance: skipped, Slack's OpenAPI spec is absent at ${specPath}`);

type Schema = Record<string, unknown>;
interface MethodSchemas {
  success: Schema;
  error: Schema;
  definitions: Record<string, Schema>;
}

export const COVERED_METHODS = [
  'auth.test',
  'auth.revoke',
  'chat.postMessage',
  'chat.update',
  'chat.getPermalink',
  'conversations.list',
  'conversations.info',
  'conversations.join',
  'conversations.leave',
  'conversations.invite',
  'conversations.members',
  'users.lookupByEmail',
  'users.info',
  'usergroups.list',
  'oauth.v2.access',
  'apps.uninstall',
] as const;

interface Exception {
  methods: readonly string[];
  what: string;
  reason: string;
  patch(schemas: MethodSchemas): void;
}

const strings = { type: 'array', items: { type: 'string' } };
const warningFields = {
  warning: { type: 'string' },
  response_metadata: {
    type: 'object',
    additionalProperties: false,
    properties: { warnings: strings, messages: strings },
  },
};
const scopeFields = { needed: { type: 'string' }, provided: { type: 'string' } };
const blockErrorFields = {
  errors: strings,
  response_metadata: { type: 'object', additionalProperties: false, properties: { messages: strings } },
};

function properties(schema: Schema): Record<string, Schema> {
  return schema.properties as Record<string, Schema>;
}
function addErrorCodes(schemas: MethodSchemas, codes: string[]): void {
  (properties(schemas.error).error?.enum as string[]).push(...codes);
}

// Each difference between Slack's 2021 spec and the behaviour the emulator follows (slack-behaviour.md).
const exceptions: Exception[] = [
  {
    methods: ['chat.postMessage'],
    what: 'message.app_id on bot messages',
    reason:
      'Modern bot tokens get "message":{"user","bot_id","app_id",…} (§3.2, observed); the 2021 message object has no app_id.',
    patch: (s) =>
      void (properties(s.definitions.objs_message ?? {}).app_id = { $ref: '#/definitions/defs_app_id' }),
  },
  {
    methods: ['chat.postMessage'],
    what: 'message.attachments keep what was posted (color, blocks, text…)',
    reason:
      'Slack returns the attachments it stored (§3.2 example; §4.1 colour bar); the 2021 schema allows only id, fallback and image_* in them.',
    patch: (s) => {
      const attachments = properties(s.definitions.objs_message ?? {}).attachments as { items: Schema };
      attachments.items.additionalProperties = true;
    },
  },
  {
    methods: ['chat.postMessage'],
    what: 'warning and response_metadata on a truncated message',
    reason:
      'Text over 40,000 characters is truncated and posted with warning message_truncated and a [WARN] message (§3.2, changelog 2018-04); the 2021 success schema allows neither field.',
    patch: (s) => Object.assign(properties(s.success), warningFields),
  },
  {
    methods: ['chat.postMessage'],
    what: 'chat.postMessage error codes newer than 2021',
    reason:
      'invalid_blocks, invalid_blocks_format, msg_blocks_too_long and markdown_text_conflict are in the current error list (§3.2, REF 2026); invalid_attachments (unparseable attachments JSON) is the code documented for chat.update (§3.3), used here too.',
    patch: (s) =>
      addErrorCodes(s, [
        'invalid_blocks',
        'invalid_blocks_format',
        'msg_blocks_too_long',
        'markdown_text_conflict',
        'invalid_attachments',
      ]),
  },
  {
    methods: ['chat.update'],
    what: 'chat.update error codes newer than 2021',
    reason: 'invalid_blocks is in the current chat.update error list (§3.3).',
    patch: (s) => addErrorCodes(s, ['invalid_blocks']),
  },
  {
    methods: ['chat.postMessage', 'chat.update'],
    what: 'errors[] and response_metadata.messages with invalid_blocks',
    reason:
      'Real invalid_blocks answers carry "errors" and "[ERROR] …" messages, both sent (§3.2, several captures); the 2021 error schemas allow neither.',
    patch: (s) => Object.assign(properties(s.error), blockErrorFields),
  },
  {
    methods: [
      'chat.postMessage',
      'conversations.members',
      'users.lookupByEmail',
      'users.info',
      'usergroups.list',
    ],
    what: 'missing_scope with needed/provided',
    reason:
      'Every method checks scopes and answers missing_scope with "needed" and "provided" (§1.4, observed); these 2021 error schemas list neither the code nor the fields.',
    patch: (s) => {
      const codes = properties(s.error).error?.enum as string[];
      if (!codes.includes('missing_scope')) codes.push('missing_scope');
      Object.assign(properties(s.error), scopeFields);
    },
  },
  {
    methods: ['chat.update'],
    what: 'message.blocks is an array',
    reason:
      'Block Kit blocks are an array (the spec\'s own "blocks" definition says so); the 2021 chat.update schema declares message.blocks an object.',
    patch: (s) => {
      const message = properties(s.success).message as Schema;
      properties(message).blocks = { $ref: '#/definitions/blocks' };
    },
  },
  {
    methods: ['conversations.list'],
    what: 'conversations.list invalid_cursor, invalid_limit, invalid_types',
    reason: 'Documented errors of conversations.list (§3.5, pagination docs); the 2021 enum lacks them.',
    patch: (s) => addErrorCodes(s, ['invalid_cursor', 'invalid_limit', 'invalid_types']),
  },
  {
    methods: ['conversations.leave'],
    what: 'conversations.leave {ok:false, not_in_channel:true}',
    reason:
      'The method page documents ok:false with not_in_channel and no error when the caller was not a member (§3.8, configurable: behaviour.leaveWhenNotMember); the 2021 spec models it as an ok:true success.',
    patch: (s) => {
      s.error = {
        anyOf: [
          s.error,
          {
            type: 'object',
            additionalProperties: false,
            required: ['ok', 'not_in_channel'],
            properties: { ok: { enum: [false] }, not_in_channel: { enum: [true] } },
          },
        ],
      };
    },
  },
];

// Slack's generator writes unions as `items: [A, B]` on non-array schemas, which JSON Schema reads as
// a tuple rule for arrays and so checks nothing (a conversation or user object would validate as
// anything). Reading them as `anyOf: [A, B]`, as meant, makes the test stricter, not looser.
function repairUnions(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(repairUnions);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const schema = node as Schema;
  if (Array.isArray(schema.items) && schema.type !== 'array') {
    schema.anyOf = schema.items;
    delete schema.items;
  }
  Object.values(schema).forEach(repairUnions);
}

function methodSchemas(spec: Schema, method: string): MethodSchemas {
  const paths = spec.paths as Record<
    string,
    Record<string, { responses: Record<string, { schema: Schema }> }>
  >;
  const operation = Object.values(paths[`/${method}`] ?? {})[0];
  if (operation === undefined) throw new Error(`the spec has no /${method}`);
  const copy = structuredClone({
    success: operation.responses['200']?.schema ?? {},
    error: operation.responses.default?.schema ?? {},
    definitions: spec.definitions as Record<string, Schema>,
  });
  repairUnions(copy);
  return copy;
}

function compile(schemas: MethodSchemas): { success: ValidateFunction; error: ValidateFunction } {
  const ajv = new Ajv({ strict: false, allErrors: true });
  // The spec's formats, checked loosely (no ajv-formats dependency).
  ajv.addFormat('uri', /^[a-z][a-z0-9+.-]*:\/\/\S+$/i);
  ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
  return {
    success: ajv.compile({ ...schemas.success, definitions: schemas.definitions }),
    error: ajv.compile({ ...schemas.error, definitions: schemas.definitions }),
  };
}

function failures(spec: Schema, method: string, responses: Recorded[], skip?: Exception): string[] {
  const schemas = methodSchemas(spec, method);
  for (const exception of exceptions)
    if (exception !== skip && exception.methods.includes(method)) exception.patch(schemas);
  const validate = compile(schemas);
  const problems: string[] = [];
  for (const response of responses) {
    const check = response.body.ok === true ? validate.success : validate.error;
    if (!check(response.body))
      problems.push(
        `${method} (${response.label}) ${JSON.stringify(response.body).slice(0, 300)}\n    ${(
          check.errors ?? []
        )
          .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
          .join('\n    ')}`,
      );
  }
  return problems;
}

describe.skipIf(!specPresent)("conformance with Slack's OpenAPI spec", () => {
  let spec: Schema;
  let recorded: Recorded[];
  const byMethod = (method: string) => recorded.filter((r) => r.method === method);

  beforeAll(async () => {
    spec = JSON.parse(readFileSync(specPath, 'utf8')) as Schema;
    recorded = await recordResponses();
  });

  it('exercises a success and an error of every covered method', () => {
    for (const method of COVERED_METHODS) {
      expect(
        byMethod(method).some((r) => r.body.ok === true),
        `${method}: a success`,
      ).toBe(true);
      expect(
        byMethod(method).some((r) => r.body.ok !== true),
        `${method}: an error`,
      ).toBe(true);
    }
    expect(new Set(recorded.map((r) => r.method))).toEqual(new Set(COVERED_METHODS));
  });

  it.each(COVERED_METHODS)('%s: every response validates against its schema', (method) => {
    expect(failures(spec, method, byMethod(method))).toEqual([]);
  });

  it.each(exceptions.map((e) => [e.what, e] as const))('exception still needed: %s', (_what, exception) => {
    const needed = exception.methods.some(
      (method) => failures(spec, method, byMethod(method), exception).length > 0,
    );
    expect(needed, `no response needs "${exception.what}" any more: remove it`).toBe(true);
  });
});
