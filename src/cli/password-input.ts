import { createInterface } from 'node:readline';

/** Ctrl-C at a prompt: the command stops with one line, not a stack trace. */
export class PromptCancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/** A password that did not come out the same twice at a terminal. */
export class PasswordMismatchError extends Error {
  constructor() {
    super('the two passwords differ; nothing was changed');
  }
}

/**
 * A new password: at a terminal typed twice (a typo in a hidden field would otherwise lock the
 * account's owner out), piped the first line of stdin once, so scripts keep working.
 */
export async function readNewPassword(prompt: string): Promise<string> {
  const password = await readPassword(prompt);
  if (!process.stdin.isTTY) return password;
  if ((await readPassword('Repeat the password: ')) !== password) throw new PasswordMismatchError();
  return password;
}

/**
 * Reads a password without it ever being a command-line argument (argv is visible to every
 * user on the machine through `ps` and lands in shell history): the first line of stdin when
 * piped, or a prompt with echo off on a terminal.
 */
export async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) return readFirstLine();
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let entered = '';
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          process.stderr.write('\n');
          return resolve(entered);
        }
        if (char === '\u0003') {
          finish();
          process.stderr.write('\n');
          return reject(new PromptCancelledError());
        }
        if (char === '\u007f') entered = [...entered].slice(0, -1).join('');
        else entered += char;
      }
    };
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
    };
    stdin.on('data', onData);
  });
}

async function readFirstLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  return '';
}
