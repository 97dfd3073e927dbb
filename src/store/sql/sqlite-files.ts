import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The SQLite files hold password hashes, emails, IPs and the audit log: only the account that
 * runs Tessera may read them. The data folder is created 0700 and the database file 0600
 * before SQLite opens it; SQLite gives its -wal and -shm files the database file's mode. An
 * existing file keeps its mode (an operator may have set it on purpose), but the start warns.
 */

/** The suffixes of the files SQLite keeps beside a database in WAL mode. */
const SQLITE_SIDE_FILES = ['', '-wal', '-shm'];

/** Creates the folder (0700) and an empty database file (0600) if they do not exist yet. */
export function createPrivateSqliteFile(filename: string): void {
  mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  // 'a' creates the file only if it is missing; the mode applies only to a file created here.
  closeSync(openSync(filename, 'a', 0o600));
}

/**
 * One line naming every existing file (and the folder) that other users can read or enter,
 * with the command that fixes it; undefined when there is none. Not on Windows, where modes
 * do not describe access.
 */
export function sqliteFileModeWarning(filename: string): string | undefined {
  if (process.platform === 'win32' || filename === ':memory:') return undefined;
  const exposed: string[] = [];
  const modeOf = (path: string) => {
    try {
      return statSync(path).mode & 0o777;
    } catch {
      return undefined; // not there (yet): nothing to read
    }
  };
  const folder = dirname(filename);
  const folderMode = modeOf(folder);
  if (folderMode !== undefined && (folderMode & 0o077) !== 0)
    exposed.push(`${folder} (${octal(folderMode)})`);
  for (const suffix of SQLITE_SIDE_FILES) {
    const mode = modeOf(filename + suffix);
    if (mode !== undefined && (mode & 0o077) !== 0) exposed.push(`${filename}${suffix} (${octal(mode)})`);
  }
  if (exposed.length === 0) return undefined;
  return `database files are open to other users: ${exposed.join(', ')}; run chmod 700 ${folder} && chmod 600 ${filename}*`;
}

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;
