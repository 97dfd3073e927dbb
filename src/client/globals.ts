/**
 * The browser globals tessera/client uses, typed here so that the SDK needs no DOM library to
 * compile with the server's types (src/client/tsconfig.json checks it against the DOM).
 */
export interface Channel {
  postMessage(message: unknown): void;
  close(): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}
export interface Locks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  request<T>(
    name: string,
    options: { ifAvailable: true },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}
export const browser = globalThis as unknown as {
  document?: { cookie: string };
  location?: { href: string };
  navigator?: { locks?: Locks };
  BroadcastChannel?: new (name: string) => Channel;
};

/** A cookie scripts may read (the anti-CSRF one), or undefined. */
export function readCookie(name: string): string | undefined {
  for (const part of (browser.document?.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}
