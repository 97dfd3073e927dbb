/** Tessera as a library: build the system, mount its HTTP API, or use the core directly. */
export { ConfigError, loadConfig, type TesseraConfig } from './config.js';
export { Accounts } from './core/accounts.js';
export { AuthError } from './core/errors.js';
export { manualRuntime, type Runtime, systemRuntime } from './core/runtime.js';
export { type ClientContext, type SessionPolicy, Sessions } from './core/sessions.js';
export { type AppOptions, buildApp } from './http/app.js';
export { SESSION_COOKIE } from './http/credentials.js';
export {
  BearerTokenError,
  bearerToken,
  type IntrospectionEndpoint,
  type TokenPrincipal,
  type VerifyAccessTokenOptions,
  verifyAccessToken,
} from './resource-server.js';
export type { RevocationBus } from './store/bus.js';
export { InProcessBus } from './store/memory/in-process-bus.js';
export type {
  RevocationStore,
  SessionRecord,
  SessionStore,
  Stores,
  UserRecord,
  UserStore,
} from './store/ports/index.js';
export { createTessera, openStores, type Tessera, type TesseraOptions } from './tessera.js';
