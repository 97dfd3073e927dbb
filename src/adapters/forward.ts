import { readFile } from 'node:fs/promises';
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  NextFunction,
  RequestHandler,
} from 'express';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { MiddlewareHandler } from 'hono';
import { ERROR_CODES, errorBody } from '../core/errors.js';

/**
 * `tessera/forward`: serve Tessera's routes from the app's own origin. A browser app must see
 * ONE origin: Tessera's `__Host-` cookies are then this origin's cookies, sent with the app's own
 * API calls, and the anti-CSRF cookie is readable by the app's pages. The forwarder passes
 * `/auth/*` and `/.well-known/*` (plus whatever `paths` adds, e.g. `/admin`) to Tessera with the
 * body untouched, and serves the browser SDK (tessera/client) at `/tessera/client.js`.
 *
 * Tessera sees the app as a proxy: list the app's address in TESSERA_TRUSTED_PROXIES so that the
 * X-Forwarded-For/-Proto/-Host set here are believed (rate limits per client IP, Secure cookies
 * behind TLS); without it every caller looks like the app.
 */
export interface ForwardOptions {
  /** Where this app reaches Tessera, e.g. `http://127.0.0.1:3000`. */
  tesseraUrl: string;
  /** Path prefixes forwarded as they are. Default `['/auth', '/.well-known']`; add `/admin` for the console. */
  paths?: readonly string[];
  /** Where the browser SDK is served (GET); `false`: not served. Default `/tessera/client.js`. */
  clientScriptPath?: string | false;
  /** The fetch used to reach Tessera (tests, proxies). Default the global fetch. */
  fetch?: typeof fetch;
}

/** What the forwarder needs of an incoming request, whatever the framework. */
export interface ForwardedRequest {
  method: string;
  /** Path and query, e.g. `/auth/login?x=1`. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body?: Uint8Array | undefined;
  /** The caller's address and the scheme and host it used (become X-Forwarded-*). */
  ip: string;
  protocol: string;
  host: string;
}

export const DEFAULT_FORWARDED_PATHS: readonly string[] = ['/auth', '/.well-known'];
export const DEFAULT_CLIENT_SCRIPT_PATH = '/tessera/client.js';

/** Never passed on: they describe one connection, or are recomputed (set-cookie: one by one). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'host',
  'content-length',
  'content-encoding',
  'set-cookie',
]);

export interface Forwarder {
  /** Whether this path (no query) is one of Tessera's, or the SDK's. */
  handles(path: string): boolean;
  /** Tessera's answer (503 `tessera_unavailable` when it does not answer), or the SDK. */
  forward(request: ForwardedRequest): Promise<Response>;
}

export function createForwarder(options: ForwardOptions): Forwarder {
  const tesseraUrl = new URL(options.tesseraUrl);
  if (tesseraUrl.protocol !== 'http:' && tesseraUrl.protocol !== 'https:') {
    throw new RangeError('tesseraUrl must be an http(s) URL.');
  }
  const prefixes = (options.paths ?? DEFAULT_FORWARDED_PATHS).map((p) => p.replace(/\/+$/, ''));
  const clientPath = options.clientScriptPath ?? DEFAULT_CLIENT_SCRIPT_PATH;
  const clientFiles = clientScriptFiles(clientPath);
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const isTessera = (path: string) => prefixes.some((p) => path === p || path.startsWith(`${p}/`));

  async function forward(request: ForwardedRequest): Promise<Response> {
    const clientFile = clientFiles.get(request.url.split('?')[0] as string);
    if (clientFile && clientPath !== false && !isTessera(clientPath)) return clientScriptResponse(clientFile);
    if (!request.url.startsWith('/')) {
      return Response.json(errorBody('bad_request'), { status: ERROR_CODES.bad_request.status });
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers)) {
      if (HOP_BY_HOP.has(name) || value === undefined) continue;
      headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    headers.set('x-forwarded-for', request.ip);
    headers.set('x-forwarded-proto', request.protocol);
    headers.set('x-forwarded-host', request.host);
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD' && request.body !== undefined;
    let answer: Response;
    try {
      // Appended to Tessera's origin, never resolved against it: a request target such as
      // `//other.host/auth/x` must stay a path on Tessera, not become another host.
      answer = await fetchImpl(`${tesseraUrl.origin}${request.url}`, {
        method: request.method,
        headers,
        redirect: 'manual',
        ...(hasBody ? { body: request.body as Uint8Array<ArrayBuffer> } : {}),
      });
    } catch {
      // The registry's code and status (503, as the adapters answer), so clients retry alike.
      return Response.json(errorBody('tessera_unavailable'), {
        status: ERROR_CODES.tessera_unavailable.status,
        headers: { 'retry-after': '1' },
      });
    }
    const outgoing = new Headers();
    for (const [name, value] of answer.headers) if (!HOP_BY_HOP.has(name)) outgoing.set(name, value);
    for (const cookie of answer.headers.getSetCookie()) outgoing.append('set-cookie', cookie);
    // 204, 304 and HEAD answers have no body (a Response refuses one).
    const bodyless = request.method === 'HEAD' || answer.status === 204 || answer.status === 304;
    const body = bodyless ? null : await answer.arrayBuffer();
    return new Response(body, { status: answer.status, headers: outgoing });
  }

  return {
    handles: (path) => isTessera(path) || clientFiles.has(path),
    forward,
  };
}

/** The modules dist/client/index.js imports (relative paths), served beside it. */
const CLIENT_MODULES = ['events.js', 'globals.js', 'messages.js', 'passkeys.js'];

/** Path → dist/client file: the SDK at `clientPath`, its modules in the same folder. */
function clientScriptFiles(clientPath: string | false): Map<string, string> {
  if (clientPath === false) return new Map();
  const sibling = (file: string): [string, string] => [clientPath.replace(/[^/]*$/, file), file];
  return new Map([[clientPath, 'index.js'], ...CLIENT_MODULES.map(sibling)]);
}
const clientScripts = new Map<string, Promise<string | undefined>>();
/** dist/client/*.js: dependency-free ES modules (absent when running from the sources). */
async function clientScriptResponse(file: string): Promise<Response> {
  let script = clientScripts.get(file);
  if (!script) {
    script = readFile(new URL(`../client/${file}`, import.meta.url), 'utf8').catch(() => undefined);
    clientScripts.set(file, script);
  }
  const text = await script;
  if (text === undefined) {
    return Response.json(
      { error: 'not_found', message: 'The SDK is served from the built package.' },
      { status: 404 },
    );
  }
  return new Response(text, {
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' },
  });
}

/** Answers with a web Response through Node's response object (express, fastify's raw reply). */
async function sendAnswer(
  answer: Response,
  send: {
    status(code: number): void;
    header(name: string, value: string | string[]): void;
    end(body: Buffer): void;
  },
) {
  send.status(answer.status);
  for (const [name, value] of answer.headers) if (name !== 'set-cookie') send.header(name, value);
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) send.header('set-cookie', cookies);
  send.end(Buffer.from(await answer.arrayBuffer()));
}

/**
 * express: `app.use(forwardToTessera({ tesseraUrl }))`, before any body parser (it reads the raw
 * body; after express.json() it forwards the parsed JSON re-encoded).
 */
export function forwardToTessera(options: ForwardOptions): RequestHandler {
  const forwarder = createForwarder(options);
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    if (!forwarder.handles(req.path)) return next();
    void (async () => {
      const answer = await forwarder.forward({
        method: req.method,
        url: req.originalUrl,
        headers: req.headers,
        body: await expressBody(req),
        ip: req.ip ?? req.socket.remoteAddress ?? '',
        protocol: req.protocol,
        host: req.get('host') ?? '',
      });
      await sendAnswer(answer, {
        status: (code) => res.status(code),
        header: (name, value) => res.setHeader(name, value),
        end: (body) => res.end(body),
      });
    })().catch(next);
  };
}

async function expressBody(req: ExpressRequest): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return undefined;
  if (!req.readableEnded) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  const parsed: unknown = req.body;
  if (Buffer.isBuffer(parsed)) return parsed;
  if (typeof parsed === 'string') return Buffer.from(parsed);
  return parsed === undefined ? undefined : Buffer.from(JSON.stringify(parsed));
}

/**
 * fastify: `await app.register(fastifyForwardToTessera, { tesseraUrl })`. Registered as an
 * encapsulated plugin: its raw-body parser applies to the forwarded routes only.
 */
export async function fastifyForwardToTessera(app: FastifyInstance, options: ForwardOptions): Promise<void> {
  const forwarder = createForwarder(options);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const answer = await forwarder.forward({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
      ip: request.ip,
      protocol: request.protocol,
      host: request.host,
    });
    reply.code(answer.status);
    for (const [name, value] of answer.headers) if (name !== 'set-cookie') reply.header(name, value);
    const cookies = answer.headers.getSetCookie();
    if (cookies.length > 0) reply.header('set-cookie', cookies);
    return reply.send(Buffer.from(await answer.arrayBuffer()));
  };
  for (const prefix of options.paths ?? DEFAULT_FORWARDED_PATHS) {
    const base = prefix.replace(/\/+$/, '');
    app.all(base, handler);
    app.all(`${base}/*`, handler);
  }
  const clientPath = options.clientScriptPath ?? DEFAULT_CLIENT_SCRIPT_PATH;
  for (const path of clientScriptFiles(clientPath).keys()) app.get(path, handler);
}

/** hono: `app.use(honoForwardToTessera({ tesseraUrl }))`. */
export function honoForwardToTessera(options: ForwardOptions): MiddlewareHandler {
  const forwarder = createForwarder(options);
  return async (c, next) => {
    if (!forwarder.handles(c.req.path)) return next();
    const raw = c.req.raw;
    const url = new URL(raw.url);
    const body =
      raw.method === 'GET' || raw.method === 'HEAD' ? undefined : new Uint8Array(await raw.arrayBuffer());
    const headers: Record<string, string> = {};
    raw.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return forwarder.forward({
      method: raw.method,
      url: url.pathname + url.search,
      headers,
      body,
      // The socket's address, never a client-sent X-Forwarded-For (which is overwritten).
      ip: remoteAddressOf(c.env) ?? '',
      protocol: url.protocol.replace(':', ''),
      host: url.host,
    });
  };
}

/** @hono/node-server puts Node's IncomingMessage in `c.env.incoming`; other runtimes differ. */
function remoteAddressOf(env: unknown): string | undefined {
  const incoming = (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}
