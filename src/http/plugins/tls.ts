import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpServerOptions } from 'node:http';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import type { TesseraConfig } from '../../config.js';
import { CONNECTION_TIMEOUTS } from './connections.js';
import { MAX_HEADER_BYTES } from './limits.js';

/**
 * The server fastify creates: HTTPS with TESSERA_TLS_CERT / TESSERA_TLS_KEY, else plain HTTP
 * (for development, or behind a TLS-terminating proxy: production refuses to start with
 * neither, see loadConfig). Both with the header size cap and the header timeout set
 * explicitly (the request, keep-alive and idle timeouts are fastify options: app.ts).
 */
export function serverTransport(config: TesseraConfig): {
  https: HttpsServerOptions | null;
  http: HttpServerOptions;
} {
  const http = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: CONNECTION_TIMEOUTS.headersTimeoutMs,
    connectionsCheckingInterval: CONNECTION_TIMEOUTS.checkIntervalMs,
  };
  if (!config.tls) return { https: null, http };
  return {
    https: {
      ...http,
      cert: readFileSync(config.tls.certFile),
      key: readFileSync(config.tls.keyFile),
      // Node's defaults already refuse SSLv3/TLS 1.0/1.1; stated here so it stays so.
      minVersion: 'TLSv1.2',
      handshakeTimeout: CONNECTION_TIMEOUTS.tlsHandshakeTimeoutMs,
    },
    http,
  };
}
