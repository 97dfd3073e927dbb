#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { deviceLabel } from '../core/device.js';
import { AuthError } from '../core/errors.js';
import { createTessera, type Tessera } from '../tessera.js';
import { readPassword } from './password-input.js';
import { serve } from './serve.js';

/**
 * `tessera`: the server and the operator's tools. Every command reads the same TESSERA_*
 * configuration as the server, so it acts on the same database.
 */
const program = new Command('tessera').description('Tessera authentication server');

/** Runs a command against a freshly opened store, and always closes it. */
async function withTessera(action: (tessera: Tessera) => Promise<void>): Promise<void> {
  const tessera = await createTessera(loadConfig());
  try {
    await action(tessera);
  } finally {
    await tessera.close();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

program
  .command('serve')
  .description('serve the HTTP API (the default for npm start)')
  .action(() => serve());

const users = program.command('users').description('manage user accounts');

users
  .command('create')
  .description('create a user; the password is read from stdin or prompted for, never from argv')
  .requiredOption('--email <email>', 'the email address')
  .option('--role <role...>', 'roles to grant, e.g. admin')
  .action((options: { email: string; role?: string[] }) =>
    withTessera(async (tessera) => {
      const password = await readPassword('Password: ');
      const user = await tessera.accounts.register({ email: options.email, password }, options.role ?? []);
      console.log(`created user ${user.id} ${user.email} roles=[${user.roles.join(',')}]`);
    }),
  );

users
  .command('list')
  .description('list every user')
  .action(() =>
    withTessera(async (tessera) => {
      for (const user of await tessera.accounts.list()) {
        const locked = user.lockedAt === null ? '' : ' locked';
        console.log(
          `${user.id}\t${user.email}\troles=[${user.roles.join(',')}]\tcreated=${iso(user.createdAt)}${locked}`,
        );
      }
    }),
  );

const sessions = program.command('sessions').description('see and end live sessions');

sessions
  .command('list')
  .description('list live sessions, newest first')
  .option('--user <email>', 'only this user')
  .action((options: { user?: string }) =>
    withTessera(async (tessera) => {
      const userId = options.user ? await userIdOf(tessera, options.user) : undefined;
      const live = userId ? await tessera.sessions.listOfUser(userId) : await tessera.sessions.listAll();
      for (const s of live) {
        console.log(
          `${s.id}\tuser=${s.userId}\tip=${s.ip}\tdevice=${deviceLabel(s.userAgent)}\tcreated=${iso(s.createdAt)}\tlast_seen=${iso(s.lastSeenAt)}`,
        );
      }
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
        const count = await tessera.sessions.revokeAllOfUser(await userIdOf(tessera, options.user));
        console.log(`revoked ${count} session(s) of ${options.user}`);
      } else if (await tessera.sessions.revoke(id as string)) {
        console.log(`revoked session ${id}`);
      } else {
        throw new CliError(`no session with id ${id}`);
      }
    }),
  );

async function userIdOf(tessera: Tessera, email: string): Promise<string> {
  const user = await tessera.accounts.findByEmail(email);
  if (!user) throw new CliError(`no user with email ${email}`);
  return user.id;
}

class CliError extends Error {}

program.parseAsync().catch((error: unknown) => {
  // Expected failures get one clear line; anything else is a bug and keeps its stack.
  if (error instanceof ConfigError) console.error(`tessera: invalid configuration: ${error.message}`);
  else if (error instanceof AuthError || error instanceof CliError)
    console.error(`tessera: ${error.message}`);
  else console.error(error);
  process.exitCode = 1;
});
