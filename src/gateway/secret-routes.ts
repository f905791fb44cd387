// /system/secrets as OpenFaaS serves it: list names (never values), create (201, 409 when it
// exists), update (200, 404 when missing), delete (202 as faas-netes answers, since faas-cli accepts only 200 or 202; 404 when missing).
import type { Provider } from '../provider/provider.js';
import { FaasqError } from '../shared/errors.js';
import type { RouteHandler } from './basic-auth.js';
import { optionalString, readJsonObject, requireString } from './json-body.js';
import { sendJson, sendText } from './reply.js';
import { namespaceOf, route } from './route.js';
import type { Router } from './system-routes.js';

const SECRET_NAME = /^[a-zA-Z0-9]([-a-zA-Z_0-9.]{0,252})$/;

export function registerSecretRoutes(router: Router, deps: { provider: Provider; protect: (handler: RouteHandler) => RouteHandler }): void {
  const { provider, protect } = deps;

  router.get('/system/secrets', protect(route(async (_req, res, _params, query) => {
    const secrets = await provider.listSecrets(namespaceOf(query.namespace));
    sendJson(res, 200, secrets.map((s) => ({ name: s.name, namespace: s.namespace })));
  })));

  router.post('/system/secrets', protect(route(async (req, res) => {
    await provider.putSecret(parseSecret(await readJsonObject(req)), { create: true });
    sendText(res, 201, '');
  })));

  router.put('/system/secrets', protect(route(async (req, res) => {
    await provider.putSecret(parseSecret(await readJsonObject(req)), { create: false });
    sendText(res, 200, '');
  })));

  router.delete('/system/secrets', protect(route(async (req, res) => {
    const body = await readJsonObject(req);
    await provider.removeSecret(secretName(body), namespaceOf(body.namespace));
    sendText(res, 202, '');
  })));
}

function secretName(body: Record<string, unknown>): string {
  const name = requireString(body, 'name');
  if (!SECRET_NAME.test(name) || name.includes('..')) {
    throw new FaasqError('E_INVALID_FIELD', `invalid secret name "${name}": use letters, digits, '-', '_' and '.'`, { detail: { field: 'name' } });
  }
  return name;
}

/**
 * OpenFaaS Secret JSON: `rawValue` (bytes, base64 in JSON) wins when non-empty, as in faas-netes —
 * faas-cli --from-file sends both, and only rawValue carries binary content intact — else `value`.
 */
function parseSecret(body: Record<string, unknown>): { name: string; namespace: string; value: Buffer } {
  const name = secretName(body);
  const namespace = namespaceOf(body.namespace);
  const raw = optionalString(body, 'rawValue');
  if (raw !== undefined && raw !== '') {
    if (!/^[A-Za-z0-9+/=_-]*$/.test(raw)) throw new FaasqError('E_INVALID_FIELD', 'field "rawValue" must be base64', { detail: { field: 'rawValue' } });
    return { name, namespace, value: Buffer.from(raw, 'base64') };
  }
  const text = optionalString(body, 'value');
  if (text === undefined) throw new FaasqError('E_MISSING_FIELD', 'missing field "value" (or "rawValue")', { detail: { field: 'value' } });
  return { name, namespace, value: Buffer.from(text, 'utf8') };
}
