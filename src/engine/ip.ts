// IP address tests for the IsIPAddress… conditions, on Node's own address parser and BlockList.
import { BlockList, isIP } from 'node:net';

export function ipVersion(value: unknown): 0 | 4 | 6 {
  if (typeof value !== 'string' || value.length > 64) return 0;
  return isIP(value) as 0 | 4 | 6;
}

export class CidrSyntaxError extends Error {
  constructor(readonly cidr: string) {
    super(`${JSON.stringify(cidr)} is not a CIDR block such as 10.0.0.0/8 or 2001:db8::/32`);
    this.name = 'CidrSyntaxError';
  }
}

/** A network in CIDR notation (a bare address is a /32 or /128), or undefined when it is not one. */
export function parseCidr(cidr: string): { address: string; version: 4 | 6; prefix: number } | undefined {
  const [address = '', bits, extra] = cidr.trim().split('/');
  const version = ipVersion(address);
  const max = version === 6 ? 128 : 32;
  const prefix = bits === undefined ? max : Number(bits);
  if (version === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max)
    return undefined;
  return { address, version, prefix };
}

export interface AddressSet {
  has(address: unknown): boolean;
}

/**
 * A set of networks; a bare address counts as a /32 or /128. IPv4 and IPv6 networks are kept apart:
 * Node's BlockList would otherwise let an IPv6 range such as ::ffff:0:0/96 swallow every IPv4 address.
 */
export function addressSet(cidrs: readonly string[]): AddressSet {
  const v4 = new BlockList();
  const v6 = new BlockList();
  for (const cidr of cidrs) {
    const network = parseCidr(cidr);
    if (network === undefined) throw new CidrSyntaxError(cidr);
    const { address, version, prefix } = network;
    if (version === 6) v6.addSubnet(address, prefix, 'ipv6');
    else v4.addSubnet(address, prefix, 'ipv4');
  }
  return {
    has(value) {
      const version = ipVersion(value);
      if (version === 4) return v4.check(value as string, 'ipv4');
      return version === 6 && v6.check(value as string, 'ipv6');
    },
  };
}

// Ranges that Python's `ipaddress` calls private (the IANA special-purpose registries), which is what
// Panther's IsIPAddressPrivate follows.
const PRIVATE_RANGES = addressSet([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/29',
  '192.0.0.170/31',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '240.0.0.0/4',
  '255.255.255.255/32',
  '::1/128',
  '::/128',
  '::ffff:0:0/96',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2001:10::/28',
  'fc00::/7',
  'fe80::/10',
]);
// Shared address space (carrier-grade NAT) is neither private nor public, as in Python.
const SHARED_RANGE = addressSet(['100.64.0.0/10']);

export function isPrivateAddress(value: unknown): boolean {
  return PRIVATE_RANGES.has(value);
}

export function isPublicAddress(value: unknown): boolean {
  return ipVersion(value) !== 0 && !PRIVATE_RANGES.has(value) && !SHARED_RANGE.has(value);
}
