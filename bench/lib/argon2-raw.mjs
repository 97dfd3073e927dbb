// The raw argon2id limit, run on core 0 by run.mjs: N verifications in flight at once (as N
// concurrent logins would have), with Tessera's parameters, for a while. @node-rs/argon2's own
// async verify, called directly (libuv's threadpool): not through Tessera's hashing threads,
// which are what the login figure measures against this.
// Prints JSON {opsPerSecond}. Usage: node bench/lib/argon2-raw.mjs <concurrency> <seconds>
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../../dist/core/passwords.js';

const concurrency = Number(process.argv[2] ?? 8);
const seconds = Number(process.argv[3] ?? 2);
const phc = await hash('correct horse battery staple', ARGON2_PARAMS);
await verify(phc, 'correct horse battery staple');
let done = 0;
const start = performance.now();
const end = start + seconds * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      if (!(await verify(phc, 'correct horse battery staple'))) throw new Error('verify failed');
      done++;
    }
  }),
);
process.stdout.write(
  JSON.stringify({ opsPerSecond: done / ((performance.now() - start) / 1000), concurrency }),
);
