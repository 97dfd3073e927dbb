/** Tessera as a library: build the system, mount its HTTP API, or use the core directly. */
export { ConfigError, loadConfig, type TesseraConfig } from './config.js';
export { Accounts } from './core/accounts.js';
export { AuthError } from './core/errors.js';
export { manualRuntime, type Runtime, systemRuntime } from './core/runtime.js';
export { type ClientContext, type SessionPolicy, Sessions } from './core/sessions.js';
export { type AppOptions, buildApp } from './http/app.js';
export { SESSION_COOKIE } from './http/credentials.js';
export type { SessionRecord, SessionStore, Store, UserRecord, UserStore } from './store/ports.js';
export { createTessera, type Tessera, type TesseraOptions } from './tessera.js';
