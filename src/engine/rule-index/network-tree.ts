// Which of many networks hold an address, in one walk down a binary tree of address bits: an address
// meets the networks on its path, whatever the number of networks. IPv4 and IPv6 are kept apart, as
// ip.ts keeps them (an IPv4-mapped range never holds a plain IPv4 address).
import { ipVersion, parseCidr } from '../ip.js';

interface TreeNode {
  zero?: TreeNode;
  one?: TreeNode;
  /** Ids of the networks that end here. */
  ids?: number[];
}

/** The address's bytes (4 or 16); undefined for what is not an address this parser reads. */
function addressBytes(text: string): Uint8Array | undefined {
  const version = ipVersion(text);
  if (version === 4) return ipv4Bytes(text);
  if (version === 6) return ipv6Bytes(text);
  return undefined;
}

function ipv4Bytes(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const bytes = new Uint8Array(4);
  for (let index = 0; index < 4; index++) {
    const value = Number(parts[index]);
    if (!Number.isInteger(value) || value < 0 || value > 255) return undefined;
    bytes[index] = value;
  }
  return bytes;
}

function ipv6Bytes(text: string): Uint8Array | undefined {
  // A zone (fe80::1%eth0) names an interface, not part of the address.
  const address = text.split('%')[0] ?? '';
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string | undefined): number[] | undefined => {
    if (half === undefined || half === '') return [];
    const out: number[] = [];
    for (const part of half.split(':')) {
      if (part.includes('.')) {
        const tail = ipv4Bytes(part);
        if (!tail) return undefined;
        out.push(((tail[0] ?? 0) << 8) | (tail[1] ?? 0), ((tail[2] ?? 0) << 8) | (tail[3] ?? 0));
      } else {
        const value = Number.parseInt(part, 16);
        if (!/^[0-9a-fA-F]{1,4}$/.test(part) || Number.isNaN(value)) return undefined;
        out.push(value);
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, index) => {
    bytes[2 * index] = group >> 8;
    bytes[2 * index + 1] = group & 0xff;
  });
  return bytes;
}

export class NetworkTree {
  private readonly roots: Record<4 | 16, TreeNode> = { 4: {}, 16: {} };
  /** Every id, for an address the checker accepts that this parser cannot read: it must not be missed. */
  private readonly all: number[] = [];

  /** Adds a network (`10.0.0.0/8`, `2001:db8::/32`, or an address); false when it is not one. */
  add(cidr: string, id: number): boolean {
    const network = parseCidr(cidr);
    const bytes = network && addressBytes(network.address);
    if (!network || !bytes) return false;
    const prefix = network.prefix;
    let node = this.roots[bytes.length as 4 | 16];
    for (let bit = 0; bit < prefix; bit++) {
      const branch = bitAt(bytes, bit) ? 'one' : 'zero';
      node = node[branch] ??= {};
    }
    (node.ids ??= []).push(id);
    this.all.push(id);
    return true;
  }

  /** Calls `found` with the ids of every network holding the address `text` (a string, not yet checked). */
  match(text: string, found: (ids: readonly number[]) => void): void {
    // Most values are dotted IPv4 addresses: read those without the general checker.
    const bytes = plainIpv4Bytes(text) ?? addressBytes(text);
    if (!bytes) {
      if (ipVersion(text) !== 0) found(this.all);
      return;
    }
    let node: TreeNode | undefined = this.roots[bytes.length as 4 | 16];
    for (let bit = 0; node; bit++) {
      if (node.ids) found(node.ids);
      if (bit === bytes.length * 8) return;
      node = bitAt(bytes, bit) ? node.one : node.zero;
    }
  }
}

/** `a.b.c.d` with decimal parts of 0 to 255 and no leading zero, read a character at a time. */
function plainIpv4Bytes(text: string): Uint8Array | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  const bytes = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let index = 0; index <= text.length; index++) {
    const code = index < text.length ? text.charCodeAt(index) : 46;
    if (code === 46) {
      if (digits === 0 || part > 3) return undefined;
      bytes[part++] = value;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + code - 48;
      if (++digits > 3 || value > 255) return undefined;
    } else return undefined;
  }
  return part === 4 ? bytes : undefined;
}

function bitAt(bytes: Uint8Array, bit: number): boolean {
  return (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) === 1;
}
