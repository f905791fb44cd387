// Upstream functions (annotation com.faasq.upstream: <URL>): no process, requests are forwarded
// to URL + path + query through the same proxy code as http mode.
import { Pool } from 'undici';
import { FaasqError } from '../../shared/errors.js';
import type { InvocationRequest, InvocationResponse, ResponseSink } from '../provider.js';
import { proxyRequest } from './http-proxy.js';
import { dispatchRequest } from './http-dispatch.js';
import type { FunctionRuntime, RuntimeLimits } from './runtime.js';
import { ANNOTATIONS } from '../../shared/annotations.js';

export const UPSTREAM_ANNOTATION = ANNOTATIONS.upstream.name;

export class UpstreamRuntime implements FunctionRuntime {
  private readonly pool: Pool;
  private readonly pathPrefix: string;
  private desired: number;

  constructor(private readonly name: string, upstream: string, replicas: number, private readonly limits: RuntimeLimits) {
    let url: URL;
    try {
      url = new URL(upstream);
    } catch {
      throw new FaasqError('E_DEPLOY_FAILED', `annotation ${UPSTREAM_ANNOTATION} is not a URL: "${upstream}"`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new FaasqError('E_DEPLOY_FAILED', `annotation ${UPSTREAM_ANNOTATION} must be an http(s) URL: "${upstream}"`);
    this.pool = new Pool(url.origin, { pipelining: 1, connections: 128 });
    this.pathPrefix = url.pathname.replace(/\/+$/, '');
    this.desired = replicas;
  }

  async start(): Promise<void> {}

  async scale(replicas: number): Promise<void> {
    this.desired = replicas;
  }

  replicas(): number {
    return this.desired;
  }

  availableReplicas(): number {
    return this.desired;
  }

  invoke(request: InvocationRequest, startedAt: number): Promise<InvocationResponse> {
    if (this.desired === 0) return Promise.reject(new FaasqError('E_FUNCTION_NOT_READY', `function "${this.name}" is scaled to zero replicas`));
    return proxyRequest(this.pool, this.pathPrefix, request, this.limits.execTimeoutMs, startedAt, this.name);
  }

  stream(request: InvocationRequest, startedAt: number, sink: ResponseSink): void {
    if (this.desired === 0) return sink.onError(new FaasqError('E_FUNCTION_NOT_READY', `function "${this.name}" is scaled to zero replicas`));
    dispatchRequest(this.pool, this.pathPrefix, request, this.limits.execTimeoutMs, startedAt, this.name, sink);
  }

  async stop(): Promise<void> {
    await this.pool.destroy().catch(() => undefined);
  }
}
