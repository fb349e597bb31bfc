// A toy log type, written outside src/ the way a new one would be: one defineLogType, then registration.
//
//     {"toy_kind": "transfer", "transfer_id": "t-1", "at": 1735689600, "who": "ann",
//      "peer": {"address": "203.0.113.9"}, "bytes": 5000000}
import {
  defineLogType,
  IndicatorList,
  isoTimestamp,
  type LogTypeModule,
} from '../../src/engine/logtypes/index.js';
import { getOwn, isPlainObject } from '../../src/engine/values.js';

export const TOY_LOG_TYPE = 'Toy.Transfers';

const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);

export const toyLogType: LogTypeModule = defineLogType({
  name: TOY_LOG_TYPE,
  recognise: {
    matches: (event) => getOwn(event, 'toy_kind') === 'transfer',
    needs: 'Toy transfers: toy_kind "transfer"',
  },
  eventTime: (event) => isoTimestamp(getOwn(event, 'at')),
  eventId: (event) => text(getOwn(event, 'transfer_id')),
  indicators: {
    fields: ['p_any_usernames', 'p_any_ip_addresses'],
    read(event) {
      const usernames = new IndicatorList();
      usernames.add(text(getOwn(event, 'who')));
      const peer = getOwn(event, 'peer');
      const addresses = new IndicatorList();
      addresses.add(isPlainObject(peer) ? text(getOwn(peer, 'address')) : undefined);
      return { p_any_usernames: usernames.result(), p_any_ip_addresses: addresses.result() };
    },
  },
  dataModel: [
    { name: 'actor_user', path: 'who' },
    { name: 'source_ip', path: 'peer.address' },
    { name: 'event_type', value: (event) => (getOwn(event, 'bytes') === 0 ? 'empty_transfer' : 'transfer') },
  ],
  forwarderDefaults: { hecSourcetypes: ['toy:transfers'] },
});
