// Checks X-Callback-Url when a call is accepted: an absolute http(s) URL without user information
// whose host is not on the deny list (CIDRs and host names; by default link-local and cloud
// metadata addresses). Literal IPs are matched as addresses, in every IPv4/IPv6 form
// (shared/address-deny.ts), names against the listed names. No DNS lookup here, to keep the accept
// path fast: the worker checks the addresses a name resolves to when it sends (docs/security.md).
import { createAddressDenyList, FaasqError } from '../shared/index.js';

export type CallbackUrlCheck = (raw: string) => string;

export function createCallbackUrlCheck(denyList: readonly string[]): CallbackUrlCheck {
  const deny = createAddressDenyList(denyList);
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new FaasqError('E_INVALID_CALLBACK_URL', 'X-Callback-Url must be an absolute http or https URL');
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
      throw new FaasqError('E_INVALID_CALLBACK_URL', 'X-Callback-Url must be an absolute http or https URL');
    }
    // Credentials in the URL would be stored with the call and shown wherever the URL is: refused.
    if (url.username !== '' || url.password !== '') {
      throw new FaasqError('E_INVALID_CALLBACK_URL', 'X-Callback-Url must not carry user information (user:password@); sign callbacks with FAASQ_CALLBACK_SECRET or put a token in the path');
    }
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname.replace(/\.$/, '');
    if (deny.isDeniedAddress(host) || deny.isDeniedName(host)) {
      throw new FaasqError('E_CALLBACK_URL_DENIED', `X-Callback-Url host "${host}" is not allowed`);
    }
    return url.href;
  };
}
