// Turns the results object into the markdown report and a hand-written SVG bar chart.

const fmt = (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : String(x));
const x2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');

function table(headers, rows) {
  const lines = [`| ${headers.join(' | ')} |`, `| ${headers.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.map((cell) => fmt(cell)).join(' | ')} |`);
  return lines.join('\n');
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
      `All servers log every request at info (pino) to /dev/null, as Tessera does by default. Took ${results.durationSeconds} s.`,
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
        t.goal,
        t.met === null ? 'not measured' : t.met ? 'yes' : '**no**',
      ]),
    ),
    '',
  );
  if (s.session) {
    out.push(
      '## GET /auth/session',
      '',
      `Ratios are to \`${s.session.baseline}\` in the same round (median of per-round ratios). "server CPU µs/req": CPU time the server process used during the throughput run divided by the requests it answered; "CPU ratio": the baseline's CPU per request divided by the target's, i.e. the throughput ratio if each had its core to itself (it does not drift when other work on the machine steals time; req/s does). "loadgen": the share of core 1 autocannon used; near 1 means the load generator, not the server, was the limit.`,
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
        ]),
      ),
      '',
      `![throughput ratio](${results.chartFile})`,
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
      '## Session validation as the table grows (SQLite)',
      '',
      `Requests spread over ${int(s.growth.sampleSize)} of the live sessions (uniformly sampled). Latency at the same fixed rate for both (half the small table's throughput). CPU ratio: this table's server CPU per request divided by the small table's.`,
      '',
      table(
        [
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
        s.growth.rows.map((r) => [
          int(r.sessions),
          int(r.rps),
          Number.isFinite(r.cpuMicroseconds) ? r.cpuMicroseconds.toFixed(0) : '–',
          x2(r.cpuRatio),
          x2(r.p50),
          x2(r.p99),
          x2(r.p50Ratio),
          x2(r.p99Ratio),
          r.insertSeconds,
        ]),
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
    `<text x="10" y="34" fill="#555">blue: Tessera, orange: peers, grey: no-auth baselines; dashed: the 0.85 target</text>`,
  ];
  const bottom = top + rows.length * (barHeight + gap);
  for (const [ratio, dash] of [
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
