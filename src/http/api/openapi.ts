import { z } from 'zod';
import { type ApiDescription, isHidden, type RouteApi } from './route-api.js';
import { errorAnswer, oauthErrorAnswer } from './schemas.js';

/** A route as fastify registered it (onRoute), with what it declared in `config.api`. */
export interface RegisteredRoute {
  method: string;
  url: string;
  api: RouteApi | undefined;
}

type JsonSchema = Record<string, unknown>;

/** JSON Schema 2020-12 of a zod schema, as OpenAPI 3.1 embeds it (no $schema of its own). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** `/admin/api/users/:id/lock` → `/admin/api/users/{id}/lock`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const operationId = (method: string, url: string) =>
  method.toLowerCase() +
  url
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');

const tagOf = (url: string) => {
  const first = url.split('/')[1] ?? '';
  if (first === 'admin') return 'admin';
  if (first === '.well-known') return 'discovery';
  return first === 'healthz' ? 'operations' : first;
};

function parameters(api: ApiDescription, url: string): JsonSchema[] {
  const out: JsonSchema[] = [];
  const pathNames = [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const params = api.params ? jsonSchema(api.params, 'input') : undefined;
  const paramProps = (params?.properties ?? {}) as Record<string, JsonSchema>;
  for (const name of pathNames) {
    out.push({ name, in: 'path', required: true, schema: paramProps[name] ?? { type: 'string' } });
  }
  if (api.query) {
    const query = jsonSchema(api.query, 'input');
    const required = new Set((query.required as string[] | undefined) ?? []);
    for (const [name, schema] of Object.entries((query.properties ?? {}) as Record<string, JsonSchema>)) {
      out.push({ name, in: 'query', required: required.has(name), schema });
    }
  }
  return out;
}

function operation(method: string, url: string, api: ApiDescription): JsonSchema {
  const responses: Record<string, JsonSchema> = {};
  for (const [status, schema] of Object.entries(api.responses)) {
    responses[status] =
      schema === null
        ? { description: `${status}, no body` }
        : { description: status, content: { 'application/json': { schema: jsonSchema(schema, 'output') } } };
  }
  responses.default = {
    description: 'An error',
    content: {
      'application/json': {
        schema: jsonSchema(api.errors === 'oauth' ? oauthErrorAnswer : errorAnswer, 'output'),
      },
    },
  };
  const op: JsonSchema = {
    operationId: operationId(method, url),
    summary: api.summary,
    tags: api.tags ?? [tagOf(url)],
    responses,
  };
  const params = parameters(api, url);
  if (params.length > 0) op.parameters = params;
  if (api.body) {
    const schema = jsonSchema(api.body, 'input');
    // A body whose schema accepts nothing at all (optional, or with a default) may be left out.
    const optional = api.body.safeParse(undefined).success;
    op.requestBody = {
      required: !optional,
      content: { [api.form ? 'application/x-www-form-urlencoded' : 'application/json']: { schema } },
    };
  }
  return op;
}

/**
 * The OpenAPI 3.1 document of every route that declared `config.api` (hidden ones left out;
 * HEAD routes fastify adds for each GET are not separate operations).
 */
export function openApiDocument(
  routes: readonly RegisteredRoute[],
  info: { version: string; issuer: string },
) {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    if (route.method === 'HEAD' || !route.api || isHidden(route.api)) continue;
    const path = openApiPath(route.url);
    paths[path] ??= {};
    (paths[path] as Record<string, JsonSchema>)[route.method.toLowerCase()] = operation(
      route.method,
      route.url,
      route.api,
    );
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Tessera',
      version: info.version,
      description:
        "Tessera's HTTP API. Browsers authenticate with HttpOnly cookies (and the x-csrf-token header on state-changing requests); other clients with Authorization: Bearer. Errors are {error, message} with a stable code (README, Error codes); the OAuth endpoints answer {error, error_description} (RFC 6749 5.2).",
    },
    servers: [{ url: info.issuer }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: '__Host-tessera_session' },
        accessTokenCookie: { type: 'apiKey', in: 'cookie', name: '__Host-tessera_at' },
      },
    },
    paths,
  };
}
