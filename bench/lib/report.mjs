// Turns the results object into the markdown report and a hand-written SVG bar chart.

const fmt = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : String(x));
const x2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map((cell) => fmt(cell)).join(' | ')} |`);
  return lines.join('\n');
}

/** How the growth section measured each round. */
function growthRuns(growth, results) {
  const latency = growth.seconds?.latency ?? results.seconds.latency;
  if (growth.fixedRate) {
    return `Quick: per round and engine, only a ${latency} s latency run at a fixed ${growth.fixedRate} req/s for each size (its req/s and CPU per request shown).`;
  }
  return `Per round and engine: throughput of each size (${growth.seconds?.throughput ?? results.seconds.throughput} s, for the rate and CPU per request), then latency (${latency} s each).`;
}

/** Which targets ran fewer rounds or shorter runs than the others, if any did. */
function referenceNote(results) {
  const { peerRounds, contextRounds, contextSeconds } = results.config ?? {};
  if (!(peerRounds < results.rounds || contextRounds < results.rounds)) return '';
  return `The baseline and Tessera's targets ran ${results.rounds} rounds; the peers that goals compare with (better-auth, express-session) ${peerRounds}, and the targets that only give context (the other no-auth servers, @fastify/session, jwt without a cache) ${contextRounds}, with ${contextSeconds.throughput} s throughput and ${contextSeconds.latency} s latency runs; each paired with the baseline's first rounds ("rounds" column). `;
}

export function markdown(results) {
  const { sections: s } = results;
  const out = [
    `# Tessera benchmark, ${results.date}${results.quick ? ' (quick)' : ''}`,
    '',
    `Node ${results.node}, ${results.cpus} cores; servers ${results.pinned ? 'pinned to core 0 (taskset), load generator on core 1' : 'NOT pinned (no taskset or one core)'}. ` +
      `${results.rounds} interleaved round(s), medians. Throughput: autocannon -c 50, no pipelining, ` +
      `${results.seconds.throughput} s; latency: a fixed rate of half the target's own throughput in the same round, ` +
      `${results.seconds.latency} s, p50/p99 from every response. Every run checked for zero non-2xx, errors and timeouts. ` +
      `All servers log one line per request at info (pino, Tessera's own access-log format) with stdout on a file, as in production: Tessera buffered (4 KiB writes, src/http/log-destination.ts), the baselines and peers with their frameworks' default (fastify/pino: a write per line; "fastify, no auth, buffered log" shows the baseline with Tessera's destination). ` +
      `PostgreSQL and Redis are the machine's own services, not pinned: they run on whichever core is free, so their work competes with the server's and the load generator's. ` +
      `Took ${results.durationSeconds} s.`,
    '',
  ];
  if (results.failures.length > 0) {
    out.push('**Failures:**', '', ...results.failures.map((f) => `- ${f}`), '');
  }
  out.push('## Targets', '');
  out.push(
    table(
      ['target', 'measured', 'goal', 'met'],
      results.targets.map((t) => [
        t.claim,
        x2(t.measured),
        t.goal ?? 'none stated',
        t.goal === null ? '–' : t.met === null ? 'not measured' : t.met ? 'yes' : '**no**',
      ]),
    ),
    '',
  );
  if (s.session) {
    out.push(
      '## GET /auth/session',
      '',
      `Ratios are to \`${s.session.baseline}\` in the same round (median of per-round ratios). ${referenceNote(results)}"server CPU µs/req": CPU time the server process used during the throughput run divided by the requests it answered; "CPU ratio": the baseline's CPU per request divided by the target's, i.e. the throughput ratio if each had its core to itself (it does not drift when other work on the machine steals time; req/s does). "loadgen": the share of core 1 autocannon used; near 1 means the load generator, not the server, was the limit.`,
      '',
      table(
        [
          'target',
          'req/s',
          'ratio',
          'server CPU µs/req',
          'CPU ratio',
          'rate for latency',
          'p50 ms',
          'p99 ms',
          'p50 ratio',
          'p99 ratio',
          'loadgen',
          'rounds',
        ],
        s.session.rows.map((r) => [
          r.failure ? `${r.name} (failed: ${r.failure})` : r.name,
          int(r.rps),
          x2(r.ratio),
          Number.isFinite(r.cpuMicroseconds) ? r.cpuMicroseconds.toFixed(0) : '–',
          x2(r.cpuRatio),
          int(r.latencyRate),
          x2(r.p50),
          x2(r.p99),
          x2(r.p50Ratio),
          x2(r.p99Ratio),
          x2(r.loadgenCpu),
          r.rounds ?? r.runs?.length,
        ]),
      ),
      '',
      `![throughput ratio](${results.chartFile})`,
      '',
    );
  }
  if (s.workers) {
    out.push(
      '## tessera serve --workers',
      '',
      'GET /auth/session, session mode on one SQLite file. CPU per request counts every process (primary and workers). This machine has two cores and the load generator needs one: two workers share core 1 with it, so throughput cannot double here.',
      '',
      table(
        ['setup', 'req/s', '× 1 process', 'CPU µs/req', 'CPU × 1 process', 'loadgen'],
        s.workers.rows.map((r) => [
          r.name,
          int(r.rps),
          x2(r.throughputRatio),
          x2(r.cpuMicroseconds),
          x2(r.cpuRatio),
          x2(r.loadgenCpu),
        ]),
      ),
      '',
    );
  }
  if (s.bandwidth) {
    out.push(
      '## Credential bytes',
      '',
      'Cookie: the header a browser sends with every request to `/auth/session`, whole and with the credential cookies alone (Tessera also sets a script-readable anti-CSRF cookie, not a credential). Set-Cookie: the header lines of the login response. Bytes as on the wire (`Name: value\\r\\n`); ratio of credential bytes to Tessera session mode.',
      '',
      table(
        ['target', 'Cookie bytes / request', 'credential cookies only', 'ratio', 'Set-Cookie bytes at login'],
        s.bandwidth.rows.map((r) => [
          r.name,
          r.cookieBytes,
          r.credentialCookieBytes,
          x2(r.cookieRatio),
          r.setCookieBytes,
        ]),
      ),
      '',
    );
  }
  if (s.revocation) {
    out.push(
      '## Revocation: a credential after its owner logs out',
      '',
      `Bearer login, POST /auth/logout, then GET /auth/session every 10 ms for up to ${s.revocation.waitMs / 1000} s.`,
      '',
      table(
        ['target', 'refused after', 'credential lifetime', 'logins listed by GET /auth/sessions'],
        s.revocation.rows.map((r) => [
          r.name,
          r.rejectedAfterMs === null
            ? `still accepted after ${r.stillAcceptedAfterMs / 1000} s`
            : `${x2(r.rejectedAfterMs)} ms`,
          r.credentialLifetimeSeconds === null
            ? 'session (idle 30 min, absolute 12 h)'
            : `${r.credentialLifetimeSeconds} s`,
          r.devicesListed === null
            ? 'no list'
            : `${r.devicesListed}${r.currentListed ? ', this one marked current' : ''}`,
        ]),
      ),
      '',
    );
  }
  if (s.crossNodeRevocation) {
    const c = s.crossNodeRevocation;
    out.push(
      '## Revocation across three nodes',
      '',
      `Three Tessera processes (\`bench/servers/tessera.mjs\`, as \`tessera serve\`) per deployment, sharing one PostgreSQL schema (and one Redis key prefix where Redis is used), all three pinned to core 0; the client polling them runs on core 1. ` +
        `Each of ${c.logouts} samples: a bearer login on node A; nodes B and C are asked GET /auth/session back to back (one keep-alive connection each) until both answer 200, so every cache is warm; POST /auth/logout on A; from the arrival of its 204, B and C are asked back to back until each answers 401. ` +
        `One delay per node and logout (${c.logouts * 2} per deployment), so it includes one round trip of the poll that saw the refusal; with fewer than 100 delays, p99 is the largest. ` +
        `A node still accepting after ${c.timeoutMs / 1000} s fails the run. Login rate limiting is off on these nodes (many logins of one account from one address). ` +
        `jwt mode cannot revoke an access token: its row gives the token's lifetime, and B and C are only watched for ${c.jwtWindowMs} ms after the logout to confirm they still accept it.`,
      '',
      table(
        ['deployment', 'delays', 'p50 ms', 'p99 ms', 'max ms', 'note'],
        c.rows.map((r) => {
          if (r.failure) return [r.name, '–', '–', '–', '–', `failed: ${r.failure}`];
          if (r.mode === 'jwt') {
            return [
              r.name,
              '–',
              '–',
              '–',
              '–',
              `not revoked: every node accepts the access token until it expires, ${r.credentialLifetimeSeconds} s after login (TESSERA_ACCESS_TOKEN_TTL) + ${r.clockSkewSeconds} s clock skew = ${r.acceptedForSeconds} s; B and C still accepted it ${r.windowMs} ms after the logout in ${r.stillAccepted} of ${r.checks} checks`,
            ];
          }
          return [r.name, r.samples, x2(r.p50), x2(r.p99), x2(r.max), ''];
        }),
      ),
      '',
    );
  }
  if (s.jwtMicro) {
    out.push(
      '## JWT verification, one call at a time (core 0)',
      '',
      `Same token for every library; ratio to \`${s.jwtMicro.baseline}\` for the same algorithm.`,
      '',
      table(
        ['alg', 'library', 'verifications/s', 'µs each', 'ratio'],
        s.jwtMicro.rows.map((r) => [r.alg, r.library, int(r.opsPerSecond), x2(r.microseconds), x2(r.ratio)]),
      ),
      '',
    );
  }
  if (s.logins) {
    out.push(
      '## Logins',
      '',
      `POST /auth/login (session mode, SQLite) with ${s.logins.concurrency} concurrent clients, against ${s.logins.concurrency} argon2id verifications in flight run directly on the same core.`,
      '',
      table(
        ['what', 'per second', 'ratio to raw argon2id'],
        s.logins.rows.map((r) => [r.name, r.perSecond, x2(r.ratio)]),
      ),
      '',
    );
  }
  if (s.storm) {
    out.push(
      '## Authenticated requests during a login storm',
      '',
      `GET /auth/session at a fixed ${int(s.storm.rate)} req/s (half the server's throughput), alone and while ${s.storm.concurrency} clients log in as fast as they can.`,
      '',
      table(
        ['condition', 'p50 ms', 'p99 ms', 'p99 ratio to idle', 'logins/s'],
        s.storm.rows.map((r) => [r.name, x2(r.p50), x2(r.p99), x2(r.p99Ratio), r.loginsPerSecond]),
      ),
      '',
    );
  }
  if (s.growth) {
    out.push(
      '## Session validation as the store grows',
      '',
      `Per engine, one server with ${int(s.growth.rows[0]?.sessions)} live sessions and one with many more, all of one user, written straight into the store (the argon2id login path would take hours): SQLite rows in large transactions; PostgreSQL rows by multi-row INSERT of 20,000 on two connections (then ANALYZE, and a CHECKPOINT once all are in); for Redis, the copies Tessera writes at login (the \`s:<id>\` hash with its expiry, the user's set and the two sweep indexes, pipelined) in front of SQLite, which holds only the account. ` +
        `The stores fill while the other sections' servers start, before anything is measured. ${growthRuns(s.growth, results)} Requests spread over ${int(s.growth.sampleSize)} of the live sessions (uniformly sampled). Latency at the same fixed rate for both sizes of an engine (half the small store's throughput, unless stated). CPU ratio: this store's server CPU per request divided by the small one's (Redis and PostgreSQL CPU not included). "insert s": wall time of the fill, with every store filling at once while the other servers start.`,
      '',
      table(
        [
          'engine',
          'sessions',
          'req/s',
          'server CPU µs/req',
          'CPU ratio',
          'p50 ms',
          'p99 ms',
          'p50 ratio',
          'p99 ratio',
          'insert s',
        ],
        s.growth.rows.map((r) =>
          r.failure
            ? [
                `${r.engineName ?? r.engine} (failed: ${r.failure})`,
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
                '–',
              ]
            : [
                r.engineName ?? 'SQLite',
                int(r.sessions),
                int(r.rps),
                Number.isFinite(r.cpuMicroseconds) ? r.cpuMicroseconds.toFixed(0) : '–',
                x2(r.cpuRatio),
                x2(r.p50),
                x2(r.p99),
                x2(r.p50Ratio),
                x2(r.p99Ratio),
                r.insertSeconds,
              ],
        ),
      ),
      '',
    );
  }
  if (s.code) {
    out.push(
      '## Code per mode',
      '',
      'Lines of TypeScript in src/ that each mode adds (neither blank nor comment-only), on this checkout.',
      '',
      table(
        ['mode', 'files', 'lines'],
        s.code.rows.map((r) => [r.name, r.files, r.lines]),
      ),
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars: each GET /auth/session target's throughput as a ratio to the baseline. */
export function svgChart(results) {
  const rows = results.sections.session?.rows.filter((r) => Number.isFinite(r.ratio)) ?? [];
  const labelWidth = 270;
  const barMax = 420;
  const barHeight = 18;
  const gap = 6;
  const top = 44;
  const maxRatio = Math.max(1.2, ...rows.map((r) => r.ratio));
  const x = (ratio) => labelWidth + (ratio / maxRatio) * barMax;
  const height = top + rows.length * (barHeight + gap) + 30;
  const width = labelWidth + barMax + 120;
  const colour = (r) =>
    r.id.startsWith('tessera') ? '#2563eb' : r.id.endsWith('no-auth') ? '#9ca3af' : '#f59e0b';
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>GET /auth/session throughput of each target as a ratio to ${escapeXml(results.sections.session.baseline)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="18" font-size="14" font-weight="bold">GET /auth/session throughput, ratio to ${escapeXml(results.sections.session.baseline)} (${escapeXml(results.date)})</text>`,
    `<text x="10" y="34" fill="#555">blue: Tessera, orange: peers, grey: no-auth baselines; dashed: the 0.85 target (0.6 for session on Redis)</text>`,
  ];
  const bottom = top + rows.length * (barHeight + gap);
  for (const [ratio, dash] of [
    [0.6, '2 3'],
    [0.85, '4 3'],
    [1, ''],
  ]) {
    parts.push(
      `<line x1="${x(ratio).toFixed(1)}" y1="${top - 4}" x2="${x(ratio).toFixed(1)}" y2="${bottom}" stroke="#111" stroke-width="1"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      `<text x="${x(ratio).toFixed(1)}" y="${bottom + 14}" text-anchor="middle">${ratio}</text>`,
    );
  }
  rows.forEach((r, i) => {
    const y = top + i * (barHeight + gap);
    parts.push(
      `<text x="${labelWidth - 8}" y="${y + 13}" text-anchor="end">${escapeXml(r.name)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${(x(r.ratio) - labelWidth).toFixed(1)}" height="${barHeight}" fill="${colour(r)}"/>`,
      `<text x="${(x(r.ratio) + 5).toFixed(1)}" y="${y + 13}" paint-order="stroke" stroke="#fff" stroke-width="3">${r.ratio.toFixed(2)} (${Math.round(r.rps).toLocaleString('en-US')}/s)</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
