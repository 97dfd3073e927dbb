import { isIP } from 'node:net';

/** Checks of single configuration values that a schema type alone cannot express (src/config.ts). */

/** A listen address: an IP literal or a DNS name; not a URL, not host:port. */
export function isListenHost(text: string): boolean {
  return (
    isIP(text) !== 0 ||
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/.test(
      text,
    )
  );
}

/** What fastify's trustProxy (proxy-addr) accepts: an IP, IP/prefix, IP/netmask or a named range. */
export function isProxyAddress(text: string): boolean {
  if (text === 'loopback' || text === 'linklocal' || text === 'uniquelocal') return true;
  const [address = '', range, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (range === undefined) return true;
  if (/^\d{1,3}$/.test(range)) return Number(range) <= (family === 4 ? 32 : 128);
  return family === 4 && isIP(range) === 4;
}

/** http(s), a host, no credentials, query or fragment. */
export function isIssuerUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (
    (url.protocol === 'https:' || url.protocol === 'http:') &&
    url.hostname !== '' &&
    !url.username &&
    !url.password &&
    !url.search &&
    !url.hash &&
    !text.includes('?') &&
    !text.includes('#')
  );
}

/** `https://app.example.com` and `http://localhost:5173` are origins; `*`, `null`, paths are not. */
export function isExactOrigin(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  const host = /^[a-z0-9.-]+$/.test(url.hostname) || /^\[[0-9a-f:.]+\]$/.test(url.hostname);
  return (url.protocol === 'https:' || url.protocol === 'http:') && host && url.origin === text;
}

/** An IPv4 or IPv6 network in CIDR form (TESSERA_WEBHOOK_ALLOWED_NETWORKS). */
export function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  const type = address ? isIP(address) : 0;
  if (rest.length > 0 || type === 0 || !/^\d{1,3}$/.test(bits ?? '')) return false;
  return Number(bits) <= (type === 4 ? 32 : 128);
}
