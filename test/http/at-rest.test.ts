import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PASSWORD,
  post,
  registerAndLogin,
  sessionCookieOf,
  startTessera,
  tempDir,
  withSession,
} from '../helpers.js';

/**
 * No secret at rest: after a whole register, login, password-change flow, the bytes SQLite
 * wrote (main file, write-ahead log, shared-memory index) contain no session token, no
 * token secret and no password; only SHA-256 hashes of secrets.
 */

const NEW_PASSWORD = 'a brand new passphrase for tessera';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
const secretOf = (token: string) => {
  const secret = token.split('.')[1];
  if (!secret) throw new Error(`not an id.secret token: ${token}`);
  return secret;
};

/** Every file SQLite may hold our data in, read raw. */
function databaseBytes(path: string): { files: string[]; bytes: Buffer } {
  const files = [path, `${path}-wal`, `${path}-shm`].filter((file) => existsSync(file));
  return { files, bytes: Buffer.concat(files.map((file) => readFileSync(file))) };
}

const contains = (bytes: Buffer, text: string) => bytes.includes(Buffer.from(text, 'utf8'));

describe('secrets at rest', () => {
  it('the SQLite files hold no token, secret or password, only SHA-256 hashes of secrets', async () => {
    const path = join(tempDir(), 'at-rest.db');
    const server = await startTessera({ env: { TESSERA_DATABASE_URL: `sqlite://${path}` } });
    const { app } = server;
    let closed = false;
    try {
      // A cookie session and a bearer session for the same user.
      const { email, token: cookieToken } = await registerAndLogin(app);
      const bearerLogin = await post(app, '/auth/login', { email, password: PASSWORD, transport: 'bearer' });
      expect(bearerLogin.statusCode, bearerLogin.body).toBe(200);
      const bearerToken: string = bearerLogin.json().token;

      // The password change rotates the cookie session's secret and ends the bearer session.
      const changed = await post(
        app,
        '/auth/password',
        { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
        withSession(cookieToken),
      );
      expect(changed.statusCode, changed.body).toBe(200);
      const rotatedToken = sessionCookieOf(changed);
      expect(rotatedToken).toBeDefined();
      const currentToken = rotatedToken as string;
      expect(currentToken).not.toBe(cookieToken);

      const tokens = [cookieToken, bearerToken, currentToken];
      const forbidden = [...tokens, ...tokens.map(secretOf), PASSWORD, NEW_PASSWORD];

      const check = (state: string) => {
        const { files, bytes } = databaseBytes(path);
        expect(files, state).toContain(path);
        for (const text of forbidden) {
          expect(contains(bytes, text), `${state}: ${JSON.stringify(text)} found at rest`).toBe(false);
        }
        // The read does see the data: the email and the live session's secret hash are there.
        expect(contains(bytes, email), state).toBe(true);
        expect(contains(bytes, sha256Hex(secretOf(currentToken))), state).toBe(true);
        return files;
      };

      // While the server runs, recent writes sit in the write-ahead log.
      const liveFiles = check('server running');
      expect(liveFiles).toContain(`${path}-wal`);

      // After close, SQLite checkpoints the log into the main file.
      await server.close();
      closed = true;
      check('server closed');
    } finally {
      if (!closed) await server.close();
    }
  });
});
