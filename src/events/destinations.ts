import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where Tessera may POST events (SSRF defence). Outside development only https, and only public
 * addresses: loopback, private, link-local, CGNAT, multicast, reserved and the cloud metadata
 * address are refused, for literal IPs and for every address a name resolves to, at
 * registration and again at each connection (the lookup below), so DNS rebinding gains nothing.
 * `allowedNetworks` (TESSERA_WEBHOOK_ALLOWED_NETWORKS) lets a deployment reach its own SIEM on
 * a private network, by CIDR, explicitly.
 */
export interface DestinationPolicy {
  /** Development: http and private addresses allowed (tests, a local receiver). */
  development: boolean;
  allowedNetworks: readonly string[];
}

const NON_PUBLIC: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

const nonPublic = new BlockList();
for (const [network, prefix, type] of NON_PUBLIC) nonPublic.addSubnet(network, prefix, type);

/** Parses CIDRs (`10.20.0.0/16`, `fd00::/8`); throws naming the bad one. */
export function parseNetworks(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, bits] = cidr.split('/');
    const type = address ? isIP(address) : 0;
    const prefix = Number(bits);
    const max = type === 4 ? 32 : 128;
    if (!address || type === 0 || !/^\d{1,3}$/.test(bits ?? '') || prefix > max) {
      throw new Error(`not a network in CIDR form: ${cidr}`);
    }
    list.addSubnet(address, prefix, type === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

export class DestinationRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefused';
  }
}

export class Destinations {
  readonly #allowed: BlockList;

  constructor(readonly policy: DestinationPolicy) {
    this.#allowed = parseNetworks(policy.allowedNetworks);
  }

  /** Whether an address may be connected to under this policy. */
  addressAllowed(address: string): boolean {
    if (this.policy.development) return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    return !nonPublic.check(ip, type) || this.#allowed.check(ip, type);
  }

  /** The URL's syntax and scheme; a refused one throws DestinationRefused with the reason. */
  checkUrl(text: string): URL {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new DestinationRefused('not an absolute URL');
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && this.policy.development)) {
      throw new DestinationRefused('the URL must use https');
    }
    if (url.username || url.password) throw new DestinationRefused('the URL must not contain credentials');
    if (url.hash) throw new DestinationRefused('the URL must not have a fragment');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) && !this.addressAllowed(host)) {
      throw new DestinationRefused('the URL points to a loopback, private or reserved address');
    }
    return url;
  }

  /** checkUrl, plus every address the name resolves to now (registration). */
  async check(text: string): Promise<URL> {
    const url = this.checkUrl(text);
    if (this.policy.development) return url;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) return url;
    const addresses = await new Promise<LookupAddress[]>((resolve, reject) =>
      dnsLookup(host, { all: true }, (error, found) => (error ? reject(error) : resolve(found))),
    ).catch(() => {
      throw new DestinationRefused('the host name does not resolve');
    });
    if (addresses.some((a) => !this.addressAllowed(a.address))) {
      throw new DestinationRefused('the host name resolves to a loopback, private or reserved address');
    }
    return url;
  }

  /**
   * A `lookup` for http.request: resolves as usual, then refuses the connection when any
   * resolved address is not allowed, so the address checked is the address connected to.
   */
  readonly guardedLookup = (
    hostname: string,
    options: object,
    callback: (
      error: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void,
  ): void => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((a) => !this.addressAllowed(a.address));
      if (refused) {
        return callback(new DestinationRefused(`refused address ${refused.address} for ${hostname}`), []);
      }
      const all = (options as { all?: boolean }).all;
      if (all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(new DestinationRefused(`no address for ${hostname}`), []);
      callback(null, first.address, first.family);
    });
  };
}
