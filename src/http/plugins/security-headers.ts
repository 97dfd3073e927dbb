import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Response headers for every answer. JSON gets harmless strict defaults (nothing may load or
 * frame it if a browser ever renders it); HTML pages (the admin console) get a strict CSP:
 * only this origin's scripts, styles, images and fetches, no inline code unless it carries the
 * page's nonce, no plugins, no <base>, forms post only here, never framed.
 * Every answer also gets Cache-Control: no-store (it carries personal data and credentials;
 * a route may choose otherwise, like the public JWKS) and X-Content-Type-Options: nosniff.
 */

/** For JSON and anything that is not a page. */
export const JSON_CONTENT_SECURITY_POLICY =
  "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The policy for an HTML page. A page with an inline script or style passes the nonce it put in
 * their `nonce` attribute (make one per response with `cspNonce()`); without one, inline code is refused.
 */
export function htmlContentSecurityPolicy(options: { nonce?: string } = {}): string {
  const nonce = options.nonce ? ` 'nonce-${options.nonce}'` : '';
  return [
    "default-src 'none'",
    `script-src 'self'${nonce}`,
    `style-src 'self'${nonce}`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A fresh CSP nonce (128 bits), one per response. */
export const cspNonce = () => randomBytes(16).toString('base64');

/**
 * Sends an HTML page with the strict page policy, or `csp` (a page-specific one). The onSend
 * hook would give any HTML answer the strict policy too; this makes the nonce explicit.
 * Usage: `return sendHtml(reply, html, { nonce })`.
 */
export function sendHtml(reply: FastifyReply, html: string, options: { nonce?: string; csp?: string } = {}) {
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', options.csp ?? htmlContentSecurityPolicy(options))
    .send(html);
}

/** Two years, subdomains included (they are Tessera's own host's subdomains only). */
export const STRICT_TRANSPORT_SECURITY = 'max-age=63072000; includeSubDomains';

/**
 * The defaults every answer starts with, precomputed and frozen: one set for plain HTTP, one for
 * HTTPS (with HSTS), set in one call per request. A route may replace one (the public JWKS sets
 * its own Cache-Control, pages their CSP). `Vary: Origin` belongs to CORS (cors.ts: an answer
 * may carry CORS headers for one Origin and not another, so no cache may serve it to a different
 * one), but it is constant, so it rides here instead of costing a hook of its own.
 */
const HTTP_HEADERS = Object.freeze({
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'content-security-policy': JSON_CONTENT_SECURITY_POLICY,
  // CSP frame-ancestors for current browsers, X-Frame-Options for old ones: no clickjacking.
  'x-frame-options': 'DENY',
  // URLs here (and their query strings) never leak to other sites through Referer.
  'referrer-policy': 'no-referrer',
  vary: 'Origin',
});
// Only over HTTPS (built-in TLS, or X-Forwarded-Proto: https from a trusted proxy): over
// plain HTTP the header is ignored by browsers and a man in the middle could strip it anyway.
const HTTPS_HEADERS = Object.freeze({
  ...HTTP_HEADERS,
  'strict-transport-security': STRICT_TRANSPORT_SECURITY,
});

/** Set in a synchronous onRequest hook: no promise per request. */
export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(request.protocol === 'https' ? HTTPS_HEADERS : HTTP_HEADERS);
}

/** `text/html`, whatever the case and parameters: a prefix test, no regular expression per answer. */
function isHtml(type: unknown): boolean {
  if (typeof type !== 'string' || type.length < 9) return false;
  if (type.slice(0, 9).toLowerCase() !== 'text/html') return false;
  const next = type.charCodeAt(9);
  // End of the value, or a parameter/whitespace after it (not `text/htmlx`).
  return Number.isNaN(next) || next === 0x3b || next === 0x20 || next === 0x09;
}

export function securityHeadersPlugin() {
  return fp(
    async (app: FastifyInstance) => {
      app.addHook('onRequest', (request, reply, done) => {
        setSecurityHeaders(request, reply);
        done();
      });
      // Any HTML answer, even one a route sent without sendHtml, gets the page policy (unless
      // it set its own) and cross-origin isolation. Synchronous: a string test per answer.
      app.addHook('onSend', (_request, reply, payload, done) => {
        if (isHtml(reply.getHeader('content-type'))) {
          if (reply.getHeader('content-security-policy') === JSON_CONTENT_SECURITY_POLICY) {
            reply.header('content-security-policy', htmlContentSecurityPolicy());
          }
          reply.header('cross-origin-opener-policy', 'same-origin');
        }
        done(null, payload);
      });
    },
    { name: 'tessera-security-headers' },
  );
}
