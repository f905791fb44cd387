// The answers to GET /metrics and GET /healthz, built once for both places that serve them: the
// gateway's routes and the worker's own metrics listener.
export type HealthReport = { isReady: boolean; components: Record<string, unknown> };

export interface OpsAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export async function metricsAnswer(metrics: { contentType: string; render(): Promise<string> }): Promise<OpsAnswer> {
  return { status: 200, contentType: metrics.contentType, body: await metrics.render() };
}

/** 200 with the report when ready (and still accepting work), else 503 with the same report. */
export async function healthAnswer(health: () => Promise<HealthReport>, isAccepting = true): Promise<OpsAnswer> {
  const report = await health();
  const isReady = report.isReady && isAccepting;
  return { status: isReady ? 200 : 503, contentType: 'application/json', body: JSON.stringify({ status: isReady ? 'ok' : 'unavailable', ...report, isReady }) };
}
