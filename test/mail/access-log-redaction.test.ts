import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/http/access-log.js';

/** The request log's view of a URL: mailed tokens never appear in it. */
describe('loggableUrl', () => {
  it('drops the query of every page a mailed link opens', () => {
    for (const page of ['verify-email', 'reset-password', 'confirm-email', 'undo-email-change', 'not-me']) {
      expect(loggableUrl(`/auth/${page}?token=abc.def&x=1`)).toBe(`/auth/${page}`);
    }
  });

  it('drops any token parameter elsewhere too (only allowlisted parameters are kept), and leaves other URLs alone', () => {
    expect(loggableUrl('/auth/session?token=abc.def')).toBe('/auth/session');
    expect(loggableUrl('/x?scope=a&refresh_token=abc&limit=2')).toBe('/x?scope=a&limit=2');
    expect(loggableUrl('/oauth/authorize?client_id=c&state=secret')).toBe('/oauth/authorize?client_id=c');
    expect(loggableUrl('/auth/not-me')).toBe('/auth/not-me');
  });
});
