import { appendFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { openApiDocument, openApiPath } from '../src/http/api/openapi.js';
import { isHidden } from '../src/http/api/route-api.js';
import { errorAnswer } from '../src/http/api/schemas.js';

/**
 * Every JSON answer the test suite receives, checked against GET /openapi.json's document
 * (built by the same function, from the same routes). On with OPENAPI_RESPONSE_CHECK=1
 * (vitest.config.ts sets it for the whole run); startTessera (helpers.ts) installs it.
 *
 * A mismatch fails loudly twice: the answer becomes a 500 (so the test that received it fails
 * where it happened), and a line goes to OPENAPI_MISMATCH_FILE, which the run's global teardown
 * (test/openapi-teardown.ts) reads and fails on, so even a test that tolerated a 500 cannot
 * hide drift. Routes a test adds itself (under /test/) are not Tessera's API and are skipped.
 */
export const OPENAPI_CHECK_ENV = 'OPENAPI_RESPONSE_CHECK';
export const OPENAPI_MISMATCH_FILE_ENV = 'OPENAPI_MISMATCH_FILE';

type Schema = Record<string, unknown>;

export class OpenApiMismatch extends Error {}

export function checkAnswersAgainstOpenApi(app: FastifyInstance): void {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  let document: ReturnType<typeof openApiDocument> | undefined;
  const validators = new Map<string, ValidateFunction>();
  const validatorFor = (key: string, schema: Schema): ValidateFunction => {
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      validators.set(key, validate);
    }
    return validate;
  };

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const problem = mismatchOf(request, reply, payload);
    if (!problem) return payload;
    const line = `${request.method} ${request.routeOptions.url ?? request.url} → ${reply.statusCode}: ${problem}`;
    const file = process.env[OPENAPI_MISMATCH_FILE_ENV];
    if (file) appendFileSync(file, `${line}\n`);
    throw new OpenApiMismatch(`the answer does not match /openapi.json: ${line}`);
  });

  function mismatchOf(request: FastifyRequest, reply: FastifyReply, payload: unknown): string | undefined {
    if (request.method === 'HEAD') return undefined;
    const url = request.routeOptions.url;
    if (url?.startsWith('/test/')) return undefined;
    const type = String(reply.getHeader('content-type') ?? '');
    const isJson = /^application\/json\b/.test(type);
    document ??= openApiDocument(app.apiRoutes, { version: 'test', issuer: 'http://localhost' });
    let schema: Schema | undefined;
    if (url === undefined) {
      // No route matched: the not-found answer is the error shape.
      schema = errorSchemaOf(document, undefined);
    } else {
      const route = app.apiRoutes.find((r) => r.url === url && r.method === request.method);
      if (!route?.api) {
        // Its error answers (the 500 this check itself causes among them) still have the error shape.
        if (reply.statusCode < 400) return 'the route declares no config.api (src/http/api/route-api.ts)';
      } else if (isHidden(route.api)) return undefined;
      const operation = (document.paths[openApiPath(url)] as Record<string, Schema> | undefined)?.[
        request.method.toLowerCase()
      ];
      const responses = (operation?.responses ?? {}) as Record<string, Schema>;
      const declared = responses[String(reply.statusCode)];
      if (declared) {
        const content = declared.content as Record<string, { schema: Schema }> | undefined;
        if (!content)
          return isEmpty(payload) ? undefined : `declared without a body, but sent ${type || 'a body'}`;
        schema = content['application/json']?.schema;
      } else if (reply.statusCode >= 400) {
        schema = errorSchemaOf(document, responses);
      } else {
        return `status ${reply.statusCode} is not declared`;
      }
    }
    if (!schema) return undefined;
    if (!isJson) return `expected JSON, got ${type || 'no content type'}`;
    let body: unknown;
    try {
      body = JSON.parse(typeof payload === 'string' ? payload : String(payload));
    } catch {
      return 'the body is not JSON';
    }
    const validate = validatorFor(`${request.method} ${url} ${reply.statusCode}`, schema);
    if (validate(body)) return undefined;
    return `${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`;
  }
}

/** The error shape of the operation (its `default`), or Tessera's {error, message} when no route matched. */
function errorSchemaOf(
  _document: ReturnType<typeof openApiDocument>,
  responses: Record<string, Schema> | undefined,
): Schema {
  const content = responses?.default?.content as Record<string, { schema: Schema }> | undefined;
  return (
    content?.['application/json']?.schema ??
    (z.toJSONSchema(errorAnswer, { target: 'draft-2020-12' }) as Schema)
  );
}

const isEmpty = (payload: unknown) =>
  payload === undefined ||
  payload === null ||
  payload === '' ||
  (Buffer.isBuffer(payload) && payload.length === 0);
