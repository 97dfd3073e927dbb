import type { Kysely, Selectable } from 'kysely';
import type {
  AuthorizationCodeRecord,
  AuthorizationCodeStore,
  OidcCodeContext,
  RefreshTokenRecord,
  RelyingPartyLoginRecord,
  SessionRecord,
} from '../ports/index.js';
import { SqlRefreshTokenStore } from './refresh-tokens.js';
import { toRelyingPartyLoginRow } from './relying-party-logins.js';
import type { Database } from './schema.js';
import { SqlSessionStore } from './sessions.js';
import { inTransaction } from './transaction.js';

type AuthorizationCodeRow = Selectable<Database['oauth_codes']>;

export class SqlAuthorizationCodeStore implements AuthorizationCodeStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createAuthorizationCode(code: AuthorizationCodeRecord): Promise<void> {
    await this.db
      .insertInto('oauth_codes')
      .values({
        id: code.id,
        secret_hash: code.secretHash,
        client_id: code.clientId,
        user_id: code.userId,
        session_id: code.sessionId,
        redirect_uri: code.redirectUri,
        code_challenge: code.codeChallenge,
        scopes: JSON.stringify(code.scopes),
        audience: code.audience,
        created_at: code.createdAt,
        expires_at: code.expiresAt,
        used_at: code.usedAt,
        oidc: code.oidc ? oidcColumn(code.oidc, code) : null,
        auth_time: code.authTime,
        amr: JSON.stringify(code.amr),
      })
      .execute();
  }

  async findAuthorizationCode(id: string): Promise<AuthorizationCodeRecord | undefined> {
    const row = await this.db.selectFrom('oauth_codes').selectAll().where('id', '=', id).executeTakeFirst();
    return row && fromAuthorizationCodeRow(row);
  }

  async useAuthorizationCode(id: string, usedAt: number): Promise<boolean> {
    // One conditional UPDATE: of racing exchanges exactly one changes the row.
    const result = await this.db
      .updateTable('oauth_codes')
      .set({ used_at: usedAt })
      .where('id', '=', id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async redeemAuthorizationCode(
    id: string,
    usedAt: number,
    login: SessionRecord,
    refreshToken: RefreshTokenRecord,
    relyingPartyLogin?: RelyingPartyLoginRecord,
  ): Promise<boolean> {
    // The conditional UPDATE holds the code's row lock until commit: a racing replay's UPDATE
    // waits, then finds the code used, and by then the login is committed for it to revoke.
    return inTransaction(this.db, async (trx) => {
      const used = await trx
        .updateTable('oauth_codes')
        .set({ used_at: usedAt })
        .where('id', '=', id)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      if (used.numUpdatedRows === 0n) return false;
      await new SqlSessionStore(trx).createSession(login);
      await new SqlRefreshTokenStore(trx).createRefreshToken(refreshToken);
      if (relyingPartyLogin) {
        await trx.insertInto('oidc_rp_logins').values(toRelyingPartyLoginRow(relyingPartyLogin)).execute();
      }
      return true;
    });
  }

  async deleteExpiredAuthorizationCodes(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('oauth_codes')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

const fromAuthorizationCodeRow = (row: AuthorizationCodeRow): AuthorizationCodeRecord => ({
  id: row.id,
  secretHash: row.secret_hash,
  clientId: row.client_id,
  userId: row.user_id,
  sessionId: row.session_id,
  redirectUri: row.redirect_uri,
  codeChallenge: row.code_challenge,
  scopes: JSON.parse(row.scopes) as string[],
  audience: row.audience,
  createdAt: Number(row.created_at),
  expiresAt: Number(row.expires_at),
  usedAt: row.used_at === null ? null : Number(row.used_at),
  ...(row.oidc !== null && { oidc: oidcContextOf(row.oidc) }),
  authTime: Number(row.auth_time),
  amr: JSON.parse(row.amr) as string[],
});

/**
 * The `oidc` column. Older builds read auth_time and amr from this JSON, not from the columns:
 * during a rolling deploy one of their nodes may redeem a code a newer node issued, so they
 * are written here too (without acr, which an older node then leaves out of that ID token).
 * Nothing here reads them back (oidcContextOf); drop them once no older node can run.
 */
const oidcColumn = (oidc: OidcCodeContext, proof: Pick<AuthorizationCodeRecord, 'authTime' | 'amr'>) =>
  JSON.stringify({
    nonce: oidc.nonce,
    authSessionId: oidc.authSessionId,
    authTime: proof.authTime,
    ...(proof.amr.length > 0 && { amr: proof.amr }),
  });

/** The nonce and browser login, from rows of either shape (older ones also held authTime, amr, acr). */
function oidcContextOf(json: string): OidcCodeContext {
  const { nonce, authSessionId } = JSON.parse(json) as OidcCodeContext;
  return { nonce, authSessionId };
}
