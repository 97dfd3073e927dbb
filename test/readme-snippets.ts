import { readFileSync } from 'node:fs';

/**
 * The code blocks of README.md and what test/readme.test.ts does with each. Every ```sh,
 * ```bash and ```js block carries a marker, an HTML comment on the line right before its
 * fence (invisible when the README is rendered):
 *
 *   <!-- readme-test: run modes=session,jwt,hybrid id=curl-tour -->
 *       run the block verbatim against a real `tessera serve` in each listed mode. Shell blocks
 *       run in bash with `set -eu -o pipefail`; JS blocks run as an ES module (imports of
 *       `tessera/*` resolve to this package's dist/). `given=token` defines `token` (a fresh
 *       access token of a registered user) before a JS block that uses one; `given=oauth`
 *       defines `req` (a request bearing an OAuth access token for https://api.example.com with
 *       scope accounts:read), `clientId` and `clientSecret` (a resource server's credentials,
 *       registered with `tessera clients create`). `id` names the block for extra checks.
 *   <!-- readme-test: app modes=jwt -->
 *       a JS app that listens on port 4000 with the README's `/me` and `/transfers` routes:
 *       started, then called with a real token.
 *   <!-- readme-test: skip: <why it cannot run here> -->
 *
 * The only rewrites: `localhost:3000` and `https://auth.example.com` become the test server,
 * port 4000 an unused port. A block without a marker fails the test.
 */
export type Mode = 'session' | 'jwt' | 'hybrid';

export interface Snippet {
  /** 1-based line of the opening fence. */
  line: number;
  language: 'sh' | 'js';
  code: string;
  kind: 'run' | 'app' | 'skip' | 'unmarked';
  modes: Mode[];
  id?: string;
  given: string[];
  skipReason?: string;
}

const MARKER = /^<!-- readme-test: (run|app|skip)(.*?)-->$/;
const MODES: readonly Mode[] = ['session', 'jwt', 'hybrid'];

export function readmeSnippets(path: string): Snippet[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i] as string);
    if (!fence) continue;
    const end = lines.findIndex((line, j) => j > i && line.startsWith('```'));
    if (end < 0) throw new Error(`README.md:${i + 1}: code block never closed`);
    const language = fence[1] ?? '';
    const code = lines.slice(i + 1, end).join('\n');
    if (['sh', 'bash', 'shell', 'js', 'javascript', 'ts', 'typescript'].includes(language)) {
      snippets.push({
        line: i + 1,
        language: language === 'sh' || language === 'bash' || language === 'shell' ? 'sh' : 'js',
        code,
        ...parseMarker(lines[i - 1] ?? '', i + 1),
      });
    }
    i = end;
  }
  return snippets;
}

function parseMarker(
  line: string,
  fenceLine: number,
): Pick<Snippet, 'kind' | 'modes' | 'id' | 'given' | 'skipReason'> {
  const match = MARKER.exec(line.trim());
  if (!match) return { kind: 'unmarked', modes: [], given: [] };
  const kind = match[1] as 'run' | 'app' | 'skip';
  const rest = (match[2] ?? '').trim();
  if (kind === 'skip') {
    const reason = rest.replace(/^:\s*/, '');
    if (reason.length < 10) throw new Error(`README.md:${fenceLine}: a skipped block needs a reason`);
    return { kind, modes: [], given: [], skipReason: reason };
  }
  const options = Object.fromEntries(
    rest
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => pair.split('=')),
  );
  const modes = (options.modes ?? '').split(',').filter(Boolean) as Mode[];
  if (modes.length === 0 || !modes.every((mode) => MODES.includes(mode))) {
    throw new Error(`README.md:${fenceLine}: modes=${options.modes} must list session, jwt and/or hybrid`);
  }
  return {
    kind,
    modes,
    id: options.id,
    given: (options.given ?? '').split(',').filter(Boolean),
  };
}
