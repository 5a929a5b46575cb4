/**
 * What the runtime hands every driver of one account as `DriverContext.http.observe`: each
 * upstream attempt becomes a span (a child of the GraphQL operation's when tracing is on) and
 * each failed one counts in skygraph_upstream_errors_total{account,operation,code}.
 *
 * Spans carry the account, operation, method, host, status and error code and message (typed
 * messages, scrubbed of the request's secrets by the connection layer); never a URL, a header or
 * a body, which may hold credentials or signatures.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Counter } from './metrics.ts';
import type { CallObservation, CallObserver } from './providers/http/connection.ts';
import type { Tracing } from './tracing.ts';

export interface CallObserverOptions {
  account: string;
  /** the driver name (`ec2`, `openstack`, ...) */
  provider: string;
  errors: Counter;
  tracing?: Tracing | undefined;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function createCallObserver(opts: CallObserverOptions): CallObserver {
  const { account, provider, errors, tracing } = opts;
  return {
    start({ operation, method, host, attempt }): CallObservation {
      const countError: CallObservation['end'] = ({ error }) => {
        if (error) errors.inc({ account, operation, code: error.code });
      };
      if (!tracing) return { headers: NO_HEADERS, end: countError };
      const span = tracing.tracer.startSpan(
        operation,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'skygraph.account': account,
            'skygraph.provider': provider,
            'skygraph.operation': operation,
            'http.request.method': method,
            // why: host only; paths and queries may carry ids, signatures or tokens
            'server.address': host,
            ...(attempt > 0 ? { 'http.request.resend_count': attempt } : {}),
          },
        },
        tracing.active(),
      );
      return {
        headers: tracing.headersFor(span),
        end(outcome) {
          countError(outcome);
          if (outcome.status !== undefined) span.setAttribute('http.response.status_code', outcome.status);
          if (outcome.error) {
            span.setAttribute('error.type', outcome.error.code);
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error.message });
          }
          span.end();
        },
      };
    },
  };
}
