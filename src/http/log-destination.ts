import pino from 'pino';

/**
 * Where the server's log lines go: stdout, buffered. pino's default destination writes every
 * line with a synchronous write(2) on the event loop, which cost ≈ 9 µs per request with stdout
 * on a file (a third of a cache-hit GET /auth/session). Here lines collect in memory and leave
 * in one asynchronous write per ≥ 4 KiB (about 16 access lines), or at the latest after
 * FLUSH_EVERY_MS, so a quiet server's lines still show up at once for whoever tails the log.
 *
 * No line is lost on a clean stop: graceful-shutdown.ts calls flushLog() once the server has
 * answered its last request, and on process exit (also after an uncaught exception) pino's own
 * exit hook writes what is left synchronously. A SIGKILL loses at most the buffer (≤ 4 KiB or
 * 250 ms of lines); so does a crash of the machine, as it would lose the page cache anyway.
 */
const BUFFER_BYTES = 4096;
const FLUSH_EVERY_MS = 250;

type Destination = ReturnType<typeof pino.destination>;
let destination: Destination | undefined;

/** The process's one buffered stdout destination (shared by every app in the process). */
export function logDestination(): Destination {
  destination ??= pino.destination({
    dest: 1,
    sync: false,
    minLength: BUFFER_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
  });
  return destination;
}

/** How long a stop waits for the last lines to be written before it carries on regardless. */
const FLUSH_BOUND_MS = 2_000;

/**
 * Writes every buffered line and resolves once they are written (at the end of a graceful
 * stop). Bounded: a stdout that no longer drains must not hold the stop forever; whatever is
 * still buffered then goes out synchronously in pino's exit hook.
 */
export function flushLog(): Promise<void> {
  const stream = destination;
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    const bound = setTimeout(resolve, FLUSH_BOUND_MS);
    bound.unref();
    stream.flush(() => {
      clearTimeout(bound);
      resolve();
    });
  });
}
