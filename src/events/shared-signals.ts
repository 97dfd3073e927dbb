import type { SecurityEvent } from './fanout.js';

/** The event types a `set` endpoint can subscribe to: those with a CAEP or RISC shape. */
export const SET_EVENT_TYPES = [
  'session.revoked',
  'password.changed',
  'password.reset',
  'factor.added',
  'factor.removed',
  'user.locked',
  'user.unlocked',
] as const;

const CAEP = 'https://schemas.openid.net/secevent/caep/event-type/';
const RISC = 'https://schemas.openid.net/secevent/risc/event-type/';

/** Who caused a login's end, in CAEP's words (initiating_entity). */
const INITIATOR: Record<string, 'user' | 'admin' | 'policy' | 'system'> = {
  logout: 'user',
  logout_all: 'user',
  device_removed: 'user',
  password_changed: 'user',
  password_reset: 'user',
  email_change_undone: 'user',
  oauth_revoked: 'user',
  grant_revoked: 'user',
  locked: 'admin',
  admin_revoked: 'admin',
  logout_everyone: 'admin',
  client_deleted: 'admin',
  refresh_reuse: 'policy',
  code_reuse: 'policy',
  replaced: 'policy',
  expired: 'system',
};

interface EndedLogin {
  id: string;
  userId: string;
  clientId?: string;
}

/**
 * The SET claims (without jti and iat, which are set at send time) for one event, one entry per
 * token to send: CAEP `session-revoked` (one per ended login when the ending named single logins,
 * else one per user with the user as subject), CAEP `credential-change` for passwords and
 * factors, RISC `account-disabled`/`account-enabled` for locks. Subjects use SSF's `iss_sub`
 * (the user id is the `sub` of Tessera's tokens) and `opaque` session ids (the tokens' `sid`).
 */
export function securityEventTokenClaims(
  event: SecurityEvent,
  issuer: string,
  audience: string,
): Array<Record<string, unknown>> {
  const toe = Math.floor(event.at / 1000);
  const user = (sub: string) => ({ format: 'iss_sub', iss: issuer, sub });
  const set = (subId: unknown, uri: string, body: Record<string, unknown>) => ({
    iss: issuer,
    aud: audience,
    txn: event.id,
    sub_id: subId,
    events: { [uri]: { event_timestamp: toe, ...body } },
  });
  const userId = event.userId;
  switch (event.type) {
    case 'session.revoked': {
      const cause = String(event.data.cause ?? '');
      const body = {
        initiating_entity: INITIATOR[cause] ?? 'system',
        reason_admin: { en: cause },
      };
      const logins = (event.data.logins ?? []) as EndedLogin[];
      const byUser = new Map<string, EndedLogin[]>();
      for (const login of logins) byUser.set(login.userId, [...(byUser.get(login.userId) ?? []), login]);
      // One login of a user: that session; several: the user (every session of theirs ended).
      return [...byUser].flatMap(([sub, own]) =>
        own.length === 1
          ? own.map((login) =>
              set(
                { format: 'complex', user: user(sub), session: { format: 'opaque', id: login.id } },
                `${CAEP}session-revoked`,
                body,
              ),
            )
          : [set(user(sub), `${CAEP}session-revoked`, body)],
      );
    }
    case 'password.changed':
    case 'password.reset':
      return userId
        ? [
            set(user(userId), `${CAEP}credential-change`, {
              credential_type: 'password',
              change_type: 'update',
            }),
          ]
        : [];
    case 'factor.added':
    case 'factor.removed': {
      const detail = (event.data.detail ?? {}) as { type?: string };
      const credential = detail.type === 'webauthn' ? 'fido2-roaming' : 'app';
      const change = event.type === 'factor.added' ? 'create' : 'delete';
      return userId
        ? [
            set(user(userId), `${CAEP}credential-change`, {
              credential_type: credential,
              change_type: change,
            }),
          ]
        : [];
    }
    case 'user.locked':
      return userId ? [set(user(userId), `${RISC}account-disabled`, {})] : [];
    case 'user.unlocked':
      return userId ? [set(user(userId), `${RISC}account-enabled`, {})] : [];
    default:
      return [];
  }
}
