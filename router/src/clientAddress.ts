// The client's address, passed to the subgraphs in X-Forwarded-For (the purchase subgraph counts refresh-token
// guesses per address). The router sets the header itself: whatever a client sent in it is believed only from
// the proxies named in ROUTER_TRUSTED_PROXIES (an ingress in front), never from anyone else.
import { BlockList, isIP } from 'node:net';

/** The trusted proxies: addresses and CIDR ranges, IPv4 or IPv6. Throws on a bad entry. */
export function trustedProxies(entries: string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
    if (!family || (bits !== undefined && !/^[0-9]+$/.test(bits))) {
      throw new Error(`ROUTER_TRUSTED_PROXIES: "${entry}" is not an address or a CIDR range`);
    }
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

const plain = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

function trusted(list: BlockList, address: string): boolean {
  const family = isIP(address) === 6 ? 'ipv6' : isIP(address) === 4 ? 'ipv4' : undefined;
  return family !== undefined && list.check(address, family);
}

/**
 * The client's address: the connection's peer, unless the peer is a trusted proxy; then the nearest address of
 * X-Forwarded-For that is not a trusted proxy (the header's entries are added left to right, each proxy
 * appending the address it saw).
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | null, proxies: BlockList): string {
  let address = plain(peer ?? '');
  if (!address) return 'unknown';
  const hops = (forwardedFor ?? '').split(',').map((hop) => plain(hop.trim())).filter(Boolean);
  while (trusted(proxies, address) && hops.length) address = hops.pop()!;
  return address;
}
