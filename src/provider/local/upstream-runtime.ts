// Upstream functions (annotation com.faasq.upstream: <URL>): no process, requests are forwarded
// to URL + path + query through the same proxy code as http mode.
import { FaasqError } from '../../shared/errors.js';
import type { DirectRoute, InvocationRequest, InvocationResponse, ResponseSink } from '../provider.js';
import { proxyRequest } from './http-proxy.js';
import { dispatchRequest } from './http-dispatch.js';
import { QuietPool, type Pooling } from './quiet-pool.js';
import type { FunctionRuntime, RuntimeLimits } from './runtime.js';
import { CountedReplicas } from './counted-replicas.js';
import { ANNOTATIONS } from '../../shared/annotations.js';

export const UPSTREAM_ANNOTATION = ANNOTATIONS.upstream.name;

export class UpstreamRuntime extends CountedReplicas implements FunctionRuntime {
  private readonly pool: QuietPool;
  private readonly pathPrefix: string;
  /** Set for plain http: upstreams, which the express lane can call directly. */
  private readonly directRoute: DirectRoute | undefined;

  constructor(name: string, upstream: string, replicas: number, private readonly limits: RuntimeLimits, pooling: Pooling) {
    super(name, replicas);
    let url: URL;
    try {
      url = new URL(upstream);
    } catch {
      throw new FaasqError('E_DEPLOY_FAILED', `annotation ${UPSTREAM_ANNOTATION} is not a URL: "${upstream}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FaasqError('E_DEPLOY_FAILED', `annotation ${UPSTREAM_ANNOTATION} must be an http(s) URL: "${upstream}"`);
    this.pool = new QuietPool(url.origin, { connections: 128, ...pooling });
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    // A bracketed IPv6 literal would need unbracketing for net.connect: left to the undici path.
    if (url.protocol === 'http:' && !url.hostname.startsWith('[')) {
      this.directRoute = {
        host: url.hostname,
        port: url.port === '' ? 80 : Number(url.port),
        authority: url.host,
        pathPrefix: this.pathPrefix,
        execTimeoutMs: limits.execTimeoutMs,
        release: () => undefined,
      };
    }
  }

  isDirect(): boolean {
    return this.directRoute !== undefined;
  }

  route(): DirectRoute | undefined {
    return this.refusal() ? undefined : this.directRoute;
  }

  invoke(request: InvocationRequest, startedAt: number): Promise<InvocationResponse> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    return proxyRequest(this.pool, this.pathPrefix, request, this.limits.execTimeoutMs, startedAt, this.name);
  }

  stream(request: InvocationRequest, startedAt: number, sink: ResponseSink): void {
    const refusal = this.refusal();
    if (refusal) return sink.onError(refusal);
    dispatchRequest(this.pool, this.pathPrefix, request, this.limits.execTimeoutMs, startedAt, this.name, sink);
  }

  async stop(): Promise<void> {
    this.isStopped = true;
    await this.pool.destroy().catch(() => undefined);
  }
}
