import type { Tessera } from '../../tessera.js';
import type { LoginMode } from './login-mode.js';
import { sessionMode } from './session-mode.js';
import { tokenMode } from './token-mode.js';

/** The one place that maps `tessera.mode` to its LoginMode; buildApp calls it once. */
export function chooseLoginMode(tessera: Tessera): LoginMode {
  switch (tessera.mode) {
    case 'session':
      return sessionMode(tessera);
    case 'jwt':
      return tokenMode(tessera, {
        name: 'jwt',
        keyring: tessera.keyring,
        tokens: tessera.tokens,
        revocations: undefined,
      });
    case 'hybrid':
      return tokenMode(tessera, {
        name: 'hybrid',
        keyring: tessera.keyring,
        tokens: tessera.tokens,
        revocations: tessera.revocations,
      });
  }
}
