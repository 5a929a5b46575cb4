/**
 * OpenTelemetry tracing: a span per GraphQL operation (useTracing below) and a child span per
 * upstream call (src/observe.ts), W3C `traceparent` read from incoming requests and sent on
 * upstream ones, spans exported over OTLP/HTTP. Off unless an endpoint is configured; then the
 * SDK is not even loaded, so tracing costs nothing.
 *
 * Nothing is registered globally (no global tracer provider, propagator or context manager):
 * each app keeps its own, and the active span travels in an AsyncLocalStorage of its own.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingHttpHeaders } from 'node:http';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Context as OtelContext,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import { getOperationAST, type ExecutionResult, type GraphQLError } from 'graphql';
import type { Plugin as YogaPlugin } from 'graphql-yoga';
import type { TracingConfig } from './config/server.ts';
import type { Context, ProviderFailure } from './context.ts';

/** Where and how spans are exported, once config and environment are read. */
export interface TracingSettings {
  /** the OTLP/HTTP traces URL (`http://collector:4318/v1/traces`) */
  url: string;
  serviceName: string;
  /** share of new traces kept (an incoming traceparent's sampled flag decides for its trace) */
  sampleRatio: number;
}

/** One app's tracer. */
export interface Tracing {
  readonly settings: TracingSettings;
  readonly tracer: Tracer;
  /** the trace context of the current async flow (ROOT when none) */
  active(): OtelContext;
  /** runs `fn` with `ctx` as the active context */
  run<T>(ctx: OtelContext, fn: () => T): T;
  /** runs `fn` with the caller's W3C trace context (the `traceparent` header) as parent, when it sent one */
  withIncoming<T>(headers: IncomingHttpHeaders, fn: () => T): T;
  /** W3C headers (`traceparent`) carrying `span` to an upstream server */
  headersFor(span: Span): Record<string, string>;
  /** exports what is buffered */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** Standard OTel variables that turn tracing off whatever the config says. */
function disabledByEnv(env: NodeJS.ProcessEnv): boolean {
  return env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() === 'none';
}

/**
 * The tracing settings, or undefined when tracing is off: `server.tracing.otlpEndpoint`, else
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as is), else OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`.
 */
export function tracingSettings(config: TracingConfig, env: NodeJS.ProcessEnv = process.env): TracingSettings | undefined {
  if (disabledByEnv(env)) return undefined;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = config.otlpEndpoint ?? (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined));
  if (!url) return undefined;
  return { url, serviceName: config.serviceName ?? (env.OTEL_SERVICE_NAME?.trim() || 'skygraph'), sampleRatio: config.sampleRatio };
}

/** Starts a tracer exporting to `settings.url`; the SDK and exporter are loaded only here. */
export async function createTracing(settings: TracingSettings): Promise<Tracing> {
  const [{ BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler }, { OTLPTraceExporter }, { W3CTraceContextPropagator }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/core'),
      import('@opentelemetry/resources'),
    ]);
  const exporter = new OTLPTraceExporter({ url: settings.url });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const propagator: TextMapPropagator = new W3CTraceContextPropagator();
  const storage = new AsyncLocalStorage<OtelContext>();
  const active = () => storage.getStore() ?? ROOT_CONTEXT;
  return {
    settings,
    tracer: provider.getTracer('skygraph'),
    active,
    run: (ctx, fn) => storage.run(ctx, fn),
    withIncoming(headers, fn) {
      if (headers.traceparent === undefined) return fn();
      return storage.run(propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter), fn);
    },
    headersFor(span) {
      const out: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, defaultTextMapSetter);
      return out;
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * A span per GraphQL operation (`query Name`, `mutation`, ...) with `graphql.operation.type` and
 * `graphql.operation.name`, the parent of every upstream call the operation makes. Its status is
 * ERROR when the result carries errors, described by their codes only (messages may echo input).
 * A subscription's span covers setting it up, not its whole life.
 */
export function useTracing(tracing: Tracing): YogaPlugin {
  const start = (args: { document: unknown; operationName?: string | null | undefined }) => {
    const op = getOperationAST(args.document as never, args.operationName);
    const type = op?.operation ?? 'query';
    const name = op?.name?.value;
    const parent = tracing.active();
    const span = tracing.tracer.startSpan(
      name ? `${type} ${name}` : type,
      { kind: SpanKind.SERVER, attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) } },
      parent,
    );
    return { span, ctx: trace.setSpan(parent, span) };
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const { span, ctx } = start(args);
      setExecuteFn((a) => tracing.run(ctx, () => executeFn(a)));
      return {
        onExecuteDone({ args: done, result }) {
          // why: the accounts that failed become top-level errors only later (usePartialFailures)
          endWith(span, result, (done.contextValue as Partial<Context>).failures);
        },
      };
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const { span, ctx } = start(args);
      setSubscribeFn((a) => tracing.run(ctx, () => subscribeFn(a)));
      return {
        onSubscribeResult({ result }) {
          endWith(span, result);
        },
        onSubscribeError() {
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'subscription failed to start' });
          span.end();
        },
      };
    },
  };
}

// --- Internal helpers ---

function endWith(span: Span, result: ExecutionResult | AsyncIterable<unknown>, failures: readonly ProviderFailure[] = []): void {
  const errors = Symbol.asyncIterator in result ? [] : ((result.errors as readonly GraphQLError[] | undefined) ?? []);
  const codes = [...new Set([...errors.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')), ...failures.map((f) => f.code)])];
  if (codes.length) {
    span.setAttribute('skygraph.error_codes', codes);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${errors.length + failures.length} error(s): ${codes.join(', ')}` });
  }
  span.end();
}
