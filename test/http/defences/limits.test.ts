import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds, MAX_HEADER_BYTES, MAX_JSON_DEPTH } from '../../../src/http/plugins/limits.js';
import { fuzzRuns, PASSWORD, startTessera, type TestServer } from '../../helpers.js';

/** Header size over a real socket (inject skips Node's HTTP parser), and JSON nesting depth. */

let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startTessera();
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  port = Number(new URL(address).port);
});
afterAll(() => server.close());

/** Sends raw bytes and returns the status line of the answer (or what happened instead). */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
    });
    socket.on('error', () => resolve(answer.split('\r\n')[0] || 'connection error'));
    socket.on('close', () => resolve(answer.split('\r\n')[0] || 'closed without answer'));
    socket.end(text);
  });
}

const getWithHeader = (bytes: number) =>
  rawRequest(
    `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(bytes)}\r\nConnection: close\r\n\r\n`,
  );

describe('header size', () => {
  it(`is capped at ${MAX_HEADER_BYTES} bytes: 431 past it, served below it`, async () => {
    expect(await getWithHeader(MAX_HEADER_BYTES - 1024)).toBe('HTTP/1.1 200 OK');
    expect(await getWithHeader(MAX_HEADER_BYTES + 1024)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    // A huge cookie header is refused the same way, before any cookie parsing.
    const cookies = Array.from({ length: 2000 }, (_, i) => `c${i}=${'v'.repeat(8)}`).join('; ');
    expect(
      await rawRequest(
        `GET /auth/session HTTP/1.1\r\nHost: x\r\nCookie: ${cookies}\r\nConnection: close\r\n\r\n`,
      ),
    ).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  });

  it('the server stays up and serves the next request', async () => {
    await getWithHeader(64 * 1024);
    expect(await getWithHeader(10)).toBe('HTTP/1.1 200 OK');
  });
});

describe('JSON depth', () => {
  const postJson = (payload: string) =>
    server.app.inject({
      method: 'POST',
      url: '/auth/login',
      payload,
      headers: { 'content-type': 'application/json' },
    });
  const nested = (depth: number) => `${'['.repeat(depth - 1)}{}${']'.repeat(depth - 1)}`;

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} with 400 json_too_deep, before parsing`, async () => {
    for (const payload of [
      nested(MAX_JSON_DEPTH + 1),
      nested(5000),
      '['.repeat(16_000),
      `{"email":${'{"a":'.repeat(20)}1${'}'.repeat(20)},"password":"x"}`,
    ]) {
      const response = await postJson(payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        error: 'json_too_deep',
        message: expect.stringMatching(/deeper than 8/),
      });
    }
  });

  it('accepts nesting up to the limit (then the schema answers), and brackets inside strings do not count', async () => {
    expect((await postJson(nested(MAX_JSON_DEPTH))).json().error).toBe('invalid_request');
    const inString = JSON.stringify({
      email: `${'[{'.repeat(50)}@example.com`,
      password: `${'\\"[['.repeat(40)}`,
    });
    expect((await postJson(inString)).json().error).toBe('invalid_credentials');
    expect((await postJson(JSON.stringify({ email: 'a@example.com', password: PASSWORD }))).statusCode).toBe(
      401,
    );
  });

  it('property: the scanner agrees with the real depth of any JSON value', () => {
    const depthOf = (value: unknown): number =>
      typeof value === 'object' && value !== null
        ? 1 + Math.max(0, ...Object.values(value as object).map(depthOf))
        : 0;
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 12 }), (value, max) => {
        const text = JSON.stringify(value);
        expect(jsonDepthExceeds(text, max)).toBe(depthOf(value) > max);
      }),
      { numRuns: fuzzRuns(500) },
    );
  });
});
