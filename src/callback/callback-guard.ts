// Where a callback may go, decided at send time on the addresses it would really connect to: every
// address a callback host resolves to is checked against FAASQ_CALLBACK_DENY (in every IPv4/IPv6
// form, shared/address-deny.ts), inside the connection's own lookup, so a name cannot resolve to
// an allowed address for the check and a denied one for the connect (DNS rebinding).
import { lookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { createAddressDenyList } from '../shared/index.js';

export interface CallbackGuard {
  /** The dispatcher every callback POST goes through (its connections look up through the deny list). */
  readonly dispatcher: Dispatcher;
  /** Why the URL's literal host or listed name is denied, or undefined when it may be tried. */
  deniedReason(url: string): string | undefined;
  close(): Promise<void>;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

export function createCallbackGuard(denyList: readonly string[]): CallbackGuard {
  const deny = createAddressDenyList(denyList);
  const guardedLookup = (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    const all: LookupAllOptions = { ...(options as object), all: true };
    lookup(hostname, all, (err, addresses) => {
      if (err) return callback(err, []);
      const denied = addresses.find((a) => deny.isDeniedAddress(a.address));
      if (denied) {
        const refusal: NodeJS.ErrnoException = new Error(`callback host "${hostname}" resolves to ${denied.address}, which FAASQ_CALLBACK_DENY denies`);
        refusal.code = 'E_CALLBACK_URL_DENIED';
        return callback(refusal, []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
  const agent = new Agent({ connect: { lookup: guardedLookup } });
  return {
    dispatcher: agent,
    deniedReason(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return 'the callback URL is not valid';
      }
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, '');
      if (isIP(host) !== 0 ? deny.isDeniedAddress(host) : deny.isDeniedName(host)) return `callback host "${host}" is denied by FAASQ_CALLBACK_DENY`;
      return undefined;
    },
    close: () => agent.close(),
  };
}
