import pino from 'pino';

/**
 * Where the server's log lines go: stdout, buffered. Without a buffer every access line is its
 * own write(2) (≈ 200 bytes), a system call per request. Here lines collect in memory and leave
 * in one write per ≥ 4 KiB (about 20 access lines), or at the latest after FLUSH_EVERY_MS, so a
 * quiet server's lines still show up at once for whoever tails the log.
 *
 * The write itself stays synchronous: 4 KiB into the page cache costs ≈ 2 µs, while handing it
 * to libuv's thread pool (sonic-boom's `sync: false`) wakes another thread on the same core,
 * which measured dearer than the write (docs/ARCHITECTURE.md, "The hot path"). As with pino's
 * default, a stdout that stops draining (a stuck pipe) slows the server rather than filling memory.
 *
 * No line is lost on a clean stop: graceful-shutdown.ts calls flushLog() once the server has
 * answered its last request and closed its stores, and on process exit (an uncaught exception
 * included) an exit hook writes what is left. A SIGKILL loses at most the buffer (≤ 4 KiB,
 * or FLUSH_EVERY_MS of lines).
 */
const BUFFER_BYTES = 4096;
const FLUSH_EVERY_MS = 250;

type Destination = ReturnType<typeof pino.destination>;
let destination: Destination | undefined;

/** The process's one buffered stdout destination (shared by every app in the process). */
export function logDestination(): Destination {
  destination ??= pino.destination({
    dest: 1,
    sync: true,
    minLength: BUFFER_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
  });
  // pino registers no exit hook for a synchronous destination: this one writes the rest.
  process.once('exit', flushLog);
  return destination;
}

/** Writes every buffered line now (the end of a graceful stop). */
export function flushLog(): void {
  try {
    destination?.flushSync();
  } catch {
    // stdout is gone (EPIPE) or not ready: nothing more can be written anyway.
  }
}
