import { describe, expect, it } from 'vitest';
import { loggableUrl } from '../../src/http/access-log.js';

/** The request log's view of a URL: mailed tokens never appear in it. */
describe('loggableUrl', () => {
  it('drops the query of every page a mailed link opens', () => {
    for (const page of ['verify-email', 'reset-password', 'confirm-email', 'undo-email-change', 'not-me']) {
      expect(loggableUrl(`/auth/${page}?token=abc.def&x=1`)).toBe(`/auth/${page}`);
    }
  });

  it('drops any token parameter elsewhere (only allowlisted parameters are kept), and leaves other URLs alone', () => {
    expect(loggableUrl('/auth/session?token=abc.def')).toBe('/auth/session');
    expect(loggableUrl('/x?client_id=app&refresh_token=abc&scope=profile')).toBe(
      '/x?client_id=app&scope=profile',
    );
    expect(loggableUrl('/auth/session')).toBe('/auth/session');
    expect(loggableUrl('/auth/not-me')).toBe('/auth/not-me');
  });
});
