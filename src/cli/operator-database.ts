import { describeDatabase, loadConfig } from '../config.js';
import { problemWithExistingDatabase } from '../store/sql/existing-database.js';
import { createTessera, type Tessera } from '../tessera.js';

/** An operator's mistake, printed as one line (`tessera: …`) with exit code 1. */
export class CliError extends Error {}

/**
 * Runs a command against the configured database, and always closes it. Only `serve` and
 * `migrate` may create a database: every other command refuses one that is missing or holds no
 * Tessera tables (it would otherwise act on an empty file no server reads), and says on stderr
 * which database it opened and the mode that database is served in.
 */
export async function withTessera(action: (tessera: Tessera) => Promise<void>): Promise<void> {
  const config = loadConfig();
  const problem = await problemWithExistingDatabase(config.database);
  if (problem) throw new CliError(problem);
  const tessera = await createTessera(config, { operator: true });
  try {
    const served = tessera.storedMode;
    console.error(
      `tessera: database ${describeDatabase(config.database)}${served ? `, served in ${served.mode} mode` : ', no server has recorded its mode yet'}`,
    );
    const ownMode = process.env.TESSERA_MODE;
    if (served && ownMode !== undefined && ownMode !== served.mode) {
      console.error(
        `tessera: note: TESSERA_MODE=${ownMode} here, but the servers run ${served.mode} mode; locks, revocations and role changes reach them all the same`,
      );
    }
    await action(tessera);
  } finally {
    await tessera.close();
  }
}

/** "ada@example.com" for a user id, from one read per distinct user. */
export function emailsOf(tessera: Tessera) {
  const known = new Map<string, Promise<string>>();
  return (userId: string | null): Promise<string> => {
    if (userId === null) return Promise.resolve('-');
    let email = known.get(userId);
    if (!email) {
      email = tessera.accounts.findById(userId).then((user) => user?.email ?? '(deleted)');
      known.set(userId, email);
    }
    return email;
  };
}
