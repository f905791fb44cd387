// The OpenFaaS function API behind basic auth: /system/functions (list, deploy, update, remove),
// /system/function/{name}, /system/scale-function/{name}, /system/info and /system/namespaces.
import os from 'node:os';
import type FindMyWay from 'find-my-way';
import type { Provider } from '../provider/provider.js';
import { readBuildInfo, type BuildInfo } from '../shared/build-info.js';
import { FaasqError } from '../shared/errors.js';
import { DEFAULT_NAMESPACE, assertDeployableName, parseFunctionRef } from '../shared/names.js';
import { deploymentToSpec } from '../stack/index.js';
import type { RouteHandler } from './basic-auth.js';
import { readJsonObject, requireString } from './json-body.js';
import { sendJson, sendText } from './reply.js';
import { namespaceOf, route } from './route.js';

export type Router = FindMyWay.Instance<FindMyWay.HTTPVersion.V1>;

export interface SystemRoutesDeps {
  readonly provider: Provider;
  readonly protect: (handler: RouteHandler) => RouteHandler;
}

export type VersionInfo = BuildInfo;

/** The package version and build commit, read once per gateway. */
export function readVersion(): VersionInfo {
  return readBuildInfo();
}

export function registerSystemRoutes(router: Router, deps: SystemRoutesDeps): void {
  const { provider, protect } = deps;
  const version = readVersion();

  router.get('/system/functions', protect(route(async (_req, res, _params, query) => {
    sendJson(res, 200, await provider.list(namespaceOf(query.namespace)));
  })));

  router.post('/system/functions', protect(route(async (req, res) => {
    const spec = deploymentToSpec(await readJsonObject(req));
    await provider.deploy(spec);
    sendText(res, 202, '');
  })));

  router.put('/system/functions', protect(route(async (req, res) => {
    const spec = deploymentToSpec(await readJsonObject(req));
    await provider.update(spec);
    sendText(res, 200, '');
  })));

  router.delete('/system/functions', protect(route(async (req, res) => {
    const body = await readJsonObject(req);
    const name = assertDeployableName(requireString(body, 'functionName'), 'functionName');
    await provider.remove(name, namespaceOf(body.namespace));
    sendText(res, 200, '');
  })));

  router.get('/system/function/:name', protect(route(async (_req, res, params, query) => {
    const ref = parseFunctionRef(params.name ?? '', namespaceOf(query.namespace));
    sendJson(res, 200, await provider.get(ref.name, ref.namespace));
  })));

  router.post('/system/scale-function/:name', protect(route(async (req, res, params, query) => {
    const body = await readJsonObject(req);
    const ref = parseFunctionRef(params.name ?? '', namespaceOf(body.namespace ?? query.namespace));
    const replicas = body.replicas;
    if (replicas === undefined || replicas === null) throw new FaasqError('E_MISSING_FIELD', 'missing field "replicas"', { detail: { field: 'replicas' } });
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new FaasqError('E_INVALID_FIELD', 'field "replicas" must be a whole number >= 0', { detail: { field: 'replicas' } });
    }
    await provider.scale(ref.name, ref.namespace, replicas);
    sendText(res, 202, '');
  })));

  router.get('/system/info', protect(route(async (_req, res) => {
    sendJson(res, 200, {
      provider: { provider: 'faasq', orchestration: provider.orchestration, version },
      version,
      arch: os.machine(),
    });
  })));

  router.get('/system/namespaces', protect(route(async (_req, res) => {
    const inUse = await provider.namespaces();
    const rest = [...new Set(inUse)].filter((ns) => ns !== DEFAULT_NAMESPACE).sort();
    sendJson(res, 200, [DEFAULT_NAMESPACE, ...rest]);
  })));
}
