import Bowser from 'bowser';

/** Longest User-Agent kept with a session; real ones are well under this. */
export const MAX_USER_AGENT_LENGTH = 512;

/**
 * A label a person recognises in their device list ("Firefox 128 on Linux"), from the
 * User-Agent. It is a hint for humans, never a security signal: any client can claim any UA.
 */
export function deviceLabel(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  const { browser, os } = Bowser.parse(userAgent);
  const major = browser.version?.split('.')[0];
  const app = browser.name ? [browser.name, major].filter(Boolean).join(' ') : firstProduct(userAgent);
  const osVersion = os.versionName ?? os.version?.split('.')[0];
  const system = os.name ? [os.name, osVersion].filter(Boolean).join(' ') : '';
  return system ? `${app} on ${system}` : app;
}

/** "curl/8.5.0" -> "curl 8"; for API clients bowser does not know. */
function firstProduct(userAgent: string): string {
  const match = /^([A-Za-z][\w.-]{0,40})(?:\/(\d+))?/.exec(userAgent);
  return match ? [match[1], match[2]].filter(Boolean).join(' ') : 'Unknown device';
}
