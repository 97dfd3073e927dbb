import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`); playwright never downloads a browser here. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether browser tests can run. Under CI=true a missing browser is a failure (.ci/run installs
 * it); elsewhere the tests are skipped with one loud line.
 */
export function browserAvailable(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run must install chromium`);
  console.warn(`SKIPPED ${what}: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}
