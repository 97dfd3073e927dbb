#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { describeDatabase, loadConfig } from '../config.js';
import { AUDIT_EVENT_TYPES, CLI_CLIENT } from '../core/audit.js';
import { type Actor, checkedRoles } from '../core/control.js';
import { deviceLabel } from '../core/device.js';
import type { SessionPageKey } from '../store/ports/sessions.js';
import { migrateDatabase, type Tessera } from '../tessera.js';
import { clientCommands } from './clients.js';
import { reportCliError } from './failures.js';
import { CliError, emailsOf, withTessera } from './operator-database.js';
import { readNewPassword } from './password-input.js';
import { serve } from './serve.js';
import { webhookCommands } from './webhooks.js';

/**
 * `tessera`: the server and the operator's tools. Every command reads the same TESSERA_*
 * configuration as the server, so it acts on the same database.
 */
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
/** Lists read this many rows per store query, so a million sessions never sit in memory at once. */
const CLI_PAGE = 500;
const program = new Command('tessera').description('Tessera authentication server').version(version);

const iso = (ms: number) => new Date(ms).toISOString();

/** Operator actions from the command line: no user acted, and there is no IP. */
const CLI_ACTOR: Actor = { actorId: null, client: CLI_CLIENT };

program
  .command('serve')
  .description('serve the HTTP API (the default for npm start)')
  .option('--workers <n>', 'server processes on the one port: a number or auto (TESSERA_WORKERS)')
  .action((options: { workers?: string }) => {
    // Through the environment: validated like the variable, and inherited by the workers.
    if (options.workers !== undefined) process.env.TESSERA_WORKERS = options.workers;
    return serve();
  });

program
  .command('migrate')
  .description('apply pending database migrations and list them (serve applies them on start too)')
  .action(async () => {
    const { database } = loadConfig();
    // On PostgreSQL, pipelines or nodes migrating at once queue on the migrator's lock: one applies.
    const applied = await migrateDatabase(database);
    for (const name of applied) console.log(`applied ${name}`);
    const summary = applied.length === 0 ? 'up to date, nothing applied' : `${applied.length} applied`;
    console.log(`migrations: ${summary} (${describeDatabase(database)})`);
  });

const users = program.command('users').description('manage user accounts');

users
  .command('create')
  .description('create a user; the password is read from stdin or prompted for, never from argv')
  .requiredOption('--email <email>', 'the email address')
  .option('--role <role...>', 'roles to grant, e.g. admin')
  .option(
    '--email-verified',
    'the operator vouches for the address (TESSERA_REQUIRE_VERIFIED_EMAIL lets it log in)',
  )
  .action((options: { email: string; role?: string[]; emailVerified?: boolean }) =>
    withTessera(async (tessera) => {
      const roles = checkedRoles(options.role ?? []);
      const password = await readNewPassword('Password: ');
      const user = await tessera.accounts.register({ email: options.email, password }, roles);
      await tessera.audit.record('user.registered', { actorId: null, userId: user.id, client: CLI_CLIENT });
      if (options.emailVerified) {
        await tessera.email.stores.verifications.markEmailVerified(
          user.id,
          user.email,
          tessera.runtime.now(),
        );
        await tessera.audit.record('email.verified', { actorId: null, userId: user.id, client: CLI_CLIENT });
      }
      console.log(`created user ${user.id} ${user.email} roles=[${user.roles.join(',')}]`);
    }),
  );

users
  .command('list')
  .description('list users by address, a page of 500 read at a time (never every user at once)')
  .option('--search <prefix>', 'only addresses starting with this (case and look-alikes folded)')
  .action((options: { search?: string }) =>
    withTessera(async (tessera) => {
      let afterEmailKey: string | undefined;
      do {
        const page = await tessera.accounts.page({ afterEmailKey, limit: CLI_PAGE, search: options.search });
        const verified = await tessera.email.account.verifiedUserIds(page);
        for (const user of page) {
          const locked = user.lockedAt === null ? '' : ' locked';
          const email = verified.has(user.id) ? 'verified' : 'unverified';
          console.log(
            `${user.id}\t${user.email}\troles=[${user.roles.join(',')}]\tcreated=${iso(user.createdAt)}${locked}\temail=${email}`,
          );
        }
        afterEmailKey = page.length === CLI_PAGE ? page[page.length - 1]?.emailKey : undefined;
      } while (afterEmailKey !== undefined);
    }),
  );

users
  .command('lock')
  .description('lock an account: every login of the user ends now and new logins are refused')
  .argument('<email>', 'the user')
  .requiredOption('--reason <text>', 'why (kept in the audit log)')
  .action((email: string, options: { reason: string }) =>
    withTessera(async (tessera) => {
      const { revokedSessions } = await tessera.control.lockUser(
        await userIdOf(tessera, email),
        options.reason,
        CLI_ACTOR,
      );
      console.log(`locked ${email}; ended ${revokedSessions} session(s)`);
    }),
  );

users
  .command('unlock')
  .description('unlock an account')
  .argument('<email>', 'the user')
  .action((email: string) =>
    withTessera(async (tessera) => {
      await tessera.control.unlockUser(await userIdOf(tessera, email), CLI_ACTOR);
      console.log(`unlocked ${email}`);
    }),
  );

users
  .command('mfa-reset')
  .description("remove a user's second factors (lost authenticator) and end every login of the user")
  .argument('<email>', 'the user')
  .action((email: string) =>
    withTessera(async (tessera) => {
      const result = await tessera.mfa.resetByOperator(await userIdOf(tessera, email), CLI_ACTOR);
      console.log(
        `reset the second factors of ${email} (authenticator app: ${result.totp ? 'removed' : 'none'}, recovery codes removed: ${result.recoveryCodes}); ended ${result.revokedSessions} session(s)`,
      );
    }),
  );

users
  .command('roles')
  .description("replace a user's roles (session and hybrid: next request; jwt: next refresh)")
  .argument('<email>', 'the user')
  .argument('[roles...]', 'the new roles; none to remove all')
  .action((email: string, roles: string[]) =>
    withTessera(async (tessera) => {
      const effect = await tessera.control.setRoles(await userIdOf(tessera, email), roles, CLI_ACTOR);
      const when =
        effect.appliesAt === 'next_request'
          ? 'the next request'
          : `the next refresh (at most ${effect.maxDelaySeconds} s)`;
      console.log(`roles of ${email}: [${roles.join(',')}], effective from ${when}`);
    }),
  );

const sessions = program.command('sessions').description('see and end live sessions');

sessions
  .command('list')
  .description("list live sessions, newest first, a page of 500 read at a time (with each owner's email)")
  .option('--user <email>', 'only this user')
  .action((options: { user?: string }) =>
    withTessera(async (tessera) => {
      const userId = options.user ? await userIdOf(tessera, options.user) : undefined;
      let after: SessionPageKey | undefined;
      do {
        const page = await tessera.sessions.page({ after, limit: CLI_PAGE, userId });
        for (const { session: s, email } of page.rows) {
          console.log(
            `${s.id}\tuser=${s.userId}\temail=${email ?? '(deleted)'}\tip=${s.ip}\tdevice=${deviceLabel(s.userAgent)}\tcreated=${iso(s.createdAt)}\tlast_seen=${iso(s.lastSeenAt)}`,
          );
        }
        after = page.lastKey ?? undefined;
      } while (after !== undefined);
    }),
  );

sessions
  .command('revoke')
  .description('end one session by id, or every session of a user')
  .argument('[id]', 'the session id')
  .option('--user <email>', 'end every session of this user')
  .action((id: string | undefined, options: { user?: string }) =>
    withTessera(async (tessera) => {
      if (Boolean(id) === Boolean(options.user))
        throw new CliError('give either a session ID or --user EMAIL');
      if (options.user) {
        const count = await tessera.control.revokeUserSessions(
          await userIdOf(tessera, options.user),
          CLI_ACTOR,
        );
        console.log(`revoked ${count} session(s) of ${options.user}`);
      } else if (await tessera.control.revokeSession(id as string, CLI_ACTOR)) {
        console.log(`revoked session ${id}`);
      } else {
        throw new CliError(`no session with id ${id}`);
      }
    }),
  );

sessions
  .command('logout-everyone')
  .description('end every login of every user (the global epoch): for the day a key or the database leaks')
  .action(() =>
    withTessera(async (tessera) => {
      console.log(`ended ${await tessera.control.logoutEveryone(CLI_ACTOR)} session(s)`);
    }),
  );

const keys = program
  .command('keys')
  .description(
    'JWS signing keys (jwt mode): list, rotate, revoke; running servers pick changes up within 5 s',
  );

/** The loaded keyring; keys exist only in jwt and hybrid modes. */
function keyringOf(tessera: Tessera) {
  if (tessera.mode === 'session') {
    const served = tessera.storedMode?.mode;
    throw new CliError(
      served && served !== 'session'
        ? `this database is served in ${served} mode: run with TESSERA_MODE=${served} (and the servers' TESSERA_KEY_ENCRYPTION_KEY) to manage its keys`
        : 'signing keys are used in jwt and hybrid modes only: set TESSERA_MODE=jwt or hybrid',
    );
  }
  return tessera.keyring;
}

keys
  .command('list')
  .description(
    'list keys: next (published, not yet signing), active (signing), retired (verifying until its tokens expire)',
  )
  .action(() =>
    withTessera(async (tessera) => {
      for (const key of keyringOf(tessera).list()) {
        const retired = key.retiredAt === null ? '' : `\tretired=${iso(key.retiredAt)}`;
        console.log(`${key.kid}\t${key.alg}\t${key.status}\tcreated=${iso(key.createdAt)}${retired}`);
      }
    }),
  );

keys
  .command('rotate')
  .description(
    'make the next key active and publish a new next key; the old active key verifies until its tokens expire',
  )
  .action(() =>
    withTessera(async (tessera) => {
      const { activeKid, nextKid } = await keyringOf(tessera).rotate();
      await tessera.audit.record('key.rotated', { client: CLI_CLIENT, detail: { activeKid, nextKid } });
      console.log(`rotated: active=${activeKid} next=${nextKid}`);
    }),
  );

keys
  .command('revoke')
  .description('delete a compromised key now: every token it signed fails; users recover by refreshing')
  .argument('<kid>', 'the key id')
  .action((kid: string) =>
    withTessera(async (tessera) => {
      if (!(await keyringOf(tessera).revoke(kid))) throw new CliError(`no key with id ${kid}`);
      await tessera.audit.record('key.revoked', { client: CLI_CLIENT, detail: { kid } });
      console.log(`revoked key ${kid}`);
    }),
  );

program
  .command('audit')
  .description('show audit events, newest first')
  .option('--user <email>', 'only events about this user')
  .option('--type <type>', `only this event type: ${AUDIT_EVENT_TYPES.join(', ')}`)
  .option('--limit <n>', 'how many', '50')
  .action((options: { user?: string; type?: string; limit: string }) =>
    withTessera(async (tessera) => {
      if (options.type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(options.type)) {
        throw new CliError(
          `--type ${options.type} is not an event type; known: ${AUDIT_EVENT_TYPES.join(', ')}`,
        );
      }
      const userId = options.user ? await userIdOf(tessera, options.user) : undefined;
      const limit = Number.parseInt(options.limit, 10);
      if (!(limit > 0)) throw new CliError('--limit must be a positive number');
      const emailOf = emailsOf(tessera);
      for (const e of await tessera.audit.list({ userId, type: options.type, limit })) {
        console.log(
          `${iso(e.at)}\t${e.type}\tuser=${e.userId ?? '-'}\temail=${await emailOf(e.userId)}\tactor=${e.actorId === null ? 'cli/system' : await emailOf(e.actorId)}\tsession=${e.sessionId ?? '-'}\tip=${e.ip || '-'}\t${e.detail}`,
        );
      }
    }),
  );

clientCommands(program, CLI_ACTOR);

const mail = program.command('mail').description('the outbox of account-recovery and verification mail');

mail
  .command('outbox')
  .description('list queued, sent and failed messages, newest first (never their links)')
  .option('--status <status>', 'pending, sent or failed')
  .option('--limit <n>', 'at most this many', '50')
  .action((options: { status?: string; limit: string }) =>
    withTessera(async (tessera) => {
      const status = options.status;
      if (status !== undefined && !['pending', 'sent', 'failed'].includes(status)) {
        throw new CliError('--status must be pending, sent or failed');
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw new CliError('--limit must be 1 to 1000');
      const list = await tessera.email.stores.outbox.listMail({
        status: status as 'pending' | 'sent' | 'failed' | undefined,
        limit,
      });
      for (const m of list) {
        const error = m.lastError ? `\terror=${JSON.stringify(m.lastError)}` : '';
        console.log(
          `${m.id}\t${m.status}\t${m.kind}\tto=${m.to}\tattempts=${m.attempts}\tcreated=${iso(m.createdAt)}${m.sentAt ? `\tsent=${iso(m.sentAt)}` : ''}${error}`,
        );
      }
      if (list.length === 0) console.log('the outbox is empty');
    }),
  );

webhookCommands(program, CLI_ACTOR);

async function userIdOf(tessera: Tessera, email: string): Promise<string> {
  const user = await tessera.accounts.findByEmail(email);
  if (!user) throw new CliError(`no user with email ${email}`);
  return user.id;
}

program.parseAsync().catch(reportCliError);
