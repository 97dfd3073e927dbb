import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/http/access-log.js';

/** The request log's view of a URL: mailed tokens never appear in it. */
describe('loggableUrl', () => {
  it('drops the query of every page a mailed link opens', () => {
    for (const page of ['verify-email', 'reset-password', 'confirm-email', 'undo-email-change', 'not-me']) {
      expect(loggableUrl(`/auth/${page}?token=abc.def&x=1`)).toBe(`/auth/${page}`);
    }
  });

  it('masks any token parameter elsewhere, and leaves other URLs alone', () => {
    expect(loggableUrl('/auth/session?token=abc.def')).toBe('/auth/session?token=[redacted]');
    expect(loggableUrl('/x?a=1&refresh_token=abc&b=2')).toBe('/x?a=1&refresh_token=[redacted]&b=2');
    expect(loggableUrl('/auth/session?probe=1')).toBe('/auth/session?probe=1');
    expect(loggableUrl('/auth/not-me')).toBe('/auth/not-me');
  });
});
