import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { CLI, cleanEnv } from './cli-process.js';

/**
 * Runs a CLI command on a real pseudo-terminal (util-linux `script`), so the password prompt
 * takes its terminal path (raw mode, no echo). Each step waits for `prompt` in the output, then
 * types `keys` ("\r" is Enter, "\u0003" Ctrl-C).
 */
export async function runInTerminal(
  args: string[],
  env: Record<string, string>,
  steps: Array<{ prompt: string; keys: string }>,
  cwd?: string,
): Promise<{ code: number; output: string }> {
  const command = [process.execPath, CLI, ...args]
    .map((part) => `'${part.replaceAll("'", `'\\''`)}'`)
    .join(' ');
  const child = spawn('script', ['-qefc', command, '/dev/null'], { env: cleanEnv(env), cwd });
  let output = '';
  let waiting: { prompt: string; from: number; resolve: () => void } | undefined;
  const check = () => {
    if (waiting && output.indexOf(waiting.prompt, waiting.from) >= 0) {
      const done = waiting;
      waiting = undefined;
      done.resolve();
    }
  };
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    check();
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const closed = once(child, 'close');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let from = 0;
  for (const step of steps) {
    await new Promise<void>((resolve) => {
      waiting = { prompt: step.prompt, from, resolve };
      check();
    });
    from = output.lastIndexOf(step.prompt) + step.prompt.length;
    // The prompt is written just before raw mode is switched on: give it a moment.
    await new Promise((r) => setTimeout(r, 200));
    child.stdin.write(step.keys);
  }
  const [code] = await closed;
  clearTimeout(timer);
  child.stdin.end();
  return { code: code as number, output: output.replaceAll('\r', '') };
}
