import { ConfigError } from '../config.js';
import { AuthError } from '../core/errors.js';
import {
  isStoreUnavailable,
  StoreSetupError,
  StoreUnavailableError,
  storageProblem,
} from '../store/errors.js';
import { CliError } from './operator-database.js';
import { PasswordMismatchError, PromptCancelledError } from './password-input.js';
import { ListenError } from './serve.js';

/** Network and authentication failures talking to a database server: an operator's problem, not a bug. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  // PostgreSQL's "invalid password", "no such database", "cannot connect now"; socket errors
  // and timeouts are isStoreUnavailable's.
  return (typeof code === 'string' && /^(28P01|28000|3D000|57P03)$/.test(code)) || isStoreUnavailable(error);
}

/**
 * One line for an error: a connection refused on every address of a name is an AggregateError
 * with an empty message of its own.
 */
function oneLine(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; errors?: unknown };
  const inner = Array.isArray(e.errors) ? (e.errors[0] as { message?: unknown } | undefined) : undefined;
  const message = [e.message, inner?.message, e.code].find((m) => typeof m === 'string' && m.length > 0);
  return String(message ?? error).split('\n')[0] as string;
}

const OPERATOR_ERRORS = [
  ConfigError,
  AuthError,
  CliError,
  PasswordMismatchError,
  StoreUnavailableError,
  StoreSetupError,
  ListenError,
];

/**
 * How the CLI ends on an error: expected failures (bad configuration, an unreachable or broken
 * database, a refused action) get one clear line and exit 1 (130 for a cancelled prompt);
 * anything else is a bug and keeps its stack.
 */
export function reportCliError(error: unknown): void {
  // Expected failures get one clear line; anything else is a bug and keeps its stack.
  if (error instanceof ConfigError) console.error(`tessera: invalid configuration: ${error.message}`);
  else if (error instanceof PromptCancelledError) {
    console.error('tessera: cancelled, nothing was changed');
    process.exitCode = 130;
    return;
  } else if (OPERATOR_ERRORS.some((type) => error instanceof type))
    console.error(`tessera: ${oneLine(error)}`);
  else if (storageProblem(error))
    console.error(`tessera: the database's storage failed (${storageProblem(error)}): ${oneLine(error)}`);
  else if (isUnreachable(error))
    console.error(`tessera: the database cannot be reached (TESSERA_DATABASE_URL): ${oneLine(error)}`);
  else console.error(error);
  process.exitCode = 1;
}
