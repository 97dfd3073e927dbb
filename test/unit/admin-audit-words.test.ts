import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain browser module of the admin console (no types, no build step).
import * as consoleAudit from '../../src/admin/assets/audit.js';
import { AUDIT_EVENT_TYPES } from '../../src/core/audit.js';

interface ConsoleAudit {
  EVENT_TYPES: string[];
  describe(event: object): string;
  detailFields(event: object): Array<[string, string]>;
  toCsv(events: object[]): string;
  toJsonLines(events: object[]): string;
}
const audit = consoleAudit as ConsoleAudit;

const event = (overrides: object = {}) => ({
  id: 'e1',
  at: '2026-12-06T12:00:00.000Z',
  type: 'user.locked',
  actorId: 'admin-id',
  actorEmail: 'root@example.com',
  userId: 'user-id',
  userEmail: 'ada@example.com',
  sessionId: null,
  ip: '203.0.113.9',
  userAgent: 'curl/8',
  detail: { reason: 'card stolen', revokedSessions: 2, revokedApiKeys: 0 },
  ...overrides,
});

describe('the admin console audit log in words', () => {
  it('has a sentence for every event type Tessera records (a new type needs one)', () => {
    expect([...audit.EVENT_TYPES].sort()).toEqual([...AUDIT_EVENT_TYPES].sort());
    for (const type of AUDIT_EVENT_TYPES) {
      expect(audit.describe(event({ type, detail: {} }))).not.toBe(type);
    }
  });

  it('names the acting admin and the subject, and labels the details', () => {
    expect(audit.describe(event())).toBe('root@example.com locked ada@example.com');
    expect(audit.describe(event({ actorId: null, actorEmail: null }))).toBe(
      'the command line locked ada@example.com',
    );
    expect(audit.detailFields(event())).toEqual([
      ['Reason', 'card stolen'],
      ['Logins ended', '2'],
      ['API keys ended', '0'],
    ]);
  });

  it('exports CSV a spreadsheet cannot run as formulas, and JSON Lines with the sentence', () => {
    const csv = audit.toCsv([event({ detail: { reason: '=HYPERLINK("http://evil")' } })]);
    const [header, row] = csv.trim().split('\r\n');
    expect(header).toBe(
      'at,event,description,actor_email,actor_id,subject_email,subject_id,session_id,ip,user_agent,detail',
    );
    expect(row).toContain('"root@example.com locked ada@example.com"');
    // The detail column is JSON (starts with {), and a cell that would start with = is prefixed.
    expect(audit.toCsv([event({ userEmail: '=1+1' })])).toContain(`"'=1+1"`);
    expect(row).toContain('"{""reason"":""=HYPERLINK(\\""http://evil\\"")""}"');
    const lines = audit
      .toJsonLines([event(), event({ id: 'e2' })])
      .trim()
      .split('\n');
    expect(lines.map((line) => JSON.parse(line).description)).toEqual([
      'root@example.com locked ada@example.com',
      'root@example.com locked ada@example.com',
    ]);
  });
});
