/**
 * Tracing and metrics through the real HTTP server: spans exported over OTLP/HTTP to a receiver
 * on 127.0.0.1 that decodes what it gets (parent/child links, the caller's trace id, the W3C
 * traceparent sent upstream, no secrets), and /metrics' upstream error counter and Node process
 * series. Upstreams: a recorded Nova API that checks each request, and a fault server answering 500.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tracingSettings } from '../../src/tracing.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';
import { startFaultServer, type FaultServer } from '../faults/fault-server.ts';
import { TEST_HTTP } from '../faults/harness.ts';

const NOVA_TOKEN = 'observability-nova-token-5e1f0c';
const BROKEN_TOKEN = 'observability-broken-token-9a7d2b';
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

/** One decoded span, with its attributes flattened. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | string[]>;
  status: { code?: number; message?: string };
  service: string;
}

interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  /** every body as received (decoded), to look for secrets */
  raw: string[];
  contentTypes: string[];
  close(): Promise<void>;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number; arrayValue?: { values?: OtlpValue[] } };

/** An OTLP/HTTP receiver for JSON-encoded traces (what @opentelemetry/exporter-trace-otlp-http sends). */
async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const raw: string[] = [];
  const contentTypes: string[] = [];
  const value = (v: OtlpValue): string | number | boolean | string[] =>
    v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.boolValue ?? v.doubleValue ?? (v.arrayValue?.values ?? []).map((x) => String(value(x)));
  // why: OTLP/JSON ids are hex; accept base64 too, as a protobuf-to-JSON mapping would write them
  const hex = (id: string | undefined) => (!id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      contentTypes.push(String(req.headers['content-type']));
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(400).end();
        return;
      }
      raw.push(body.toString());
      const doc = JSON.parse(body.toString()) as {
        resourceSpans: {
          resource?: { attributes?: { key: string; value: OtlpValue }[] };
          scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: { key: string; value: OtlpValue }[]; status?: { code?: number; message?: string } }[] }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const service = String(value(rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value ?? {}));
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind,
              attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, value(a.value)])),
              status: s.status ?? {},
              service,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    raw,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let receiver: OtlpReceiver;
let nova: ReplayServer;
let broken: FaultServer;
let t: TestApp;
const sentTraceparents: string[] = [];

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  nova = await startReplayServer([
    {
      method: 'GET',
      path: '/servers/detail',
      check: (req) => {
        if (req.headers['x-auth-token'] !== NOVA_TOKEN) throw new Error('x-auth-token is not the account token');
        const tp = req.headers.traceparent;
        if (tp !== undefined) {
          if (!TRACEPARENT.test(tp)) throw new Error(`malformed traceparent ${tp}`);
          sentTraceparents.push(tp);
        }
      },
      file: 'nova/servers.json',
    },
  ]);
  broken = await startFaultServer('json');
  broken.fault = 'http500';
  t = await startTestApp(
    {
      accounts: [
        { id: 'nova-ok', driver: 'openstack', region: 'RegionOne', endpoint: nova.url, credentials: { token: NOVA_TOKEN }, cacheTtlMs: 0 },
        { id: 'nova-broken', driver: 'openstack', region: 'RegionOne', endpoint: broken.url, credentials: { token: BROKEN_TOKEN }, cacheTtlMs: 0 },
      ],
      server: { tracing: { otlpEndpoint: `${receiver.url}/v1/traces`, serviceName: 'skygraph-under-test' } },
    },
    { http: TEST_HTTP, env: {} },
  );
});
afterAll(async () => {
  await t?.stop();
  await nova?.close();
  await broken?.close();
  await receiver?.close();
});

async function exported(match: (s: ReceivedSpan) => boolean, count = 1): Promise<ReceivedSpan[]> {
  await t.app.tracing!.flush();
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = receiver.spans.filter(match);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('tracing', () => {
  it('makes a span per operation under the caller\'s traceparent, and a child span per upstream call that carries it on', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ query: 'query Inventory { nodes(filter: { accounts: ["nova-ok"] }) { edges { node { name } } failures { account code } } }' }),
    });
    const body = (await res.json()) as { data: { nodes: { edges: { node: { name: string } }[]; failures: unknown[] } } };
    expect(body.data.nodes.failures).toEqual([]);
    expect(body.data.nodes.edges.length).toBeGreaterThan(0);
    expect(nova.failures).toEqual([]);

    const [op] = await exported((s) => s.name === 'query Inventory');
    expect(op).toMatchObject({
      traceId,
      parentSpanId: callerSpan,
      kind: 2, // SERVER
      service: 'skygraph-under-test',
      attributes: { 'graphql.operation.type': 'query', 'graphql.operation.name': 'Inventory' },
    });
    expect(op!.status.code ?? 0).not.toBe(2);

    const [call] = await exported((s) => s.traceId === traceId && s.name === 'GET /servers/detail');
    expect(call).toMatchObject({
      parentSpanId: op!.spanId,
      kind: 3, // CLIENT
      attributes: {
        'skygraph.account': 'nova-ok',
        'skygraph.provider': 'openstack',
        'skygraph.operation': 'GET /servers/detail',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
      },
    });
    // the upstream got the W3C context of that very span
    expect(sentTraceparents).toContain(`00-${traceId}-${call!.spanId}-01`);
  });

  it('marks failed upstream calls (each attempt) and the operation as errors, without any secret', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Broken { nodes(filter: { accounts: ["nova-broken"] }) { failures { account code } } }' }),
    });
    const body = (await res.json()) as { data: { nodes: { failures: { account: string; code: string }[] } } };
    expect(body.data.nodes.failures).toEqual([{ account: 'nova-broken', code: 'PROVIDER_ERROR' }]);

    const [op] = await exported((s) => s.name === 'query Broken');
    // no traceparent came in: the operation starts its own trace
    expect(op!.parentSpanId).toBe('');
    expect(op!.status.code).toBe(2); // ERROR
    expect(op!.attributes['skygraph.error_codes']).toEqual(['PROVIDER_ERROR']);

    // TEST_HTTP: two retries, so three attempts, each its own span
    const calls = await exported((s) => s.parentSpanId === op!.spanId, 3);
    expect(calls).toHaveLength(3);
    for (const c of calls) {
      expect(c.traceId).toBe(op!.traceId);
      expect(c.attributes).toMatchObject({ 'skygraph.account': 'nova-broken', 'http.response.status_code': 500, 'error.type': 'PROVIDER_ERROR' });
      expect(c.status.code).toBe(2);
      expect(c.status.message).toContain('[openstack]');
    }
    expect(calls.map((c) => c.attributes['http.request.resend_count'] ?? 0).sort()).toEqual([0, 1, 2]);

    const everything = receiver.raw.join('\n');
    for (const secret of [NOVA_TOKEN, BROKEN_TOKEN]) expect(everything).not.toContain(secret);
    expect(everything.toLowerCase()).not.toContain('x-auth-token');
    expect(everything).not.toContain(nova.url);
    expect(receiver.contentTypes.every((c) => c.startsWith('application/json'))).toBe(true);
  });
});

describe('metrics', () => {
  it('count upstream errors by account, operation and code, and show the Node process', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const errors = /^skygraph_upstream_errors_total\{account="nova-broken",operation="GET \/servers\/detail",code="PROVIDER_ERROR"\} (\d+)$/m.exec(text);
    expect(Number(errors?.[1])).toBeGreaterThanOrEqual(3);
    expect(text).not.toMatch(/^skygraph_upstream_errors_total\{account="nova-ok"/m);
    for (const gauge of ['process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_external_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_eventloop_utilization']) {
      const m = new RegExp(`^# TYPE ${gauge} gauge\\n${gauge} ([0-9.e+-]+)$`, 'm').exec(text);
      expect(m, gauge).not.toBeNull();
      expect(Number(m![1]), gauge).toBeGreaterThanOrEqual(0);
    }
    expect(Number(/^process_resident_memory_bytes (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(10 * 1024 * 1024);
    expect(Number(/^process_cpu_seconds_total ([0-9.]+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram');
    expect(text).toMatch(/^nodejs_version_info\{version="v\d+\.\d+\.\d+"\} 1$/m);
  });
});

describe('tracing: configuration', () => {
  it('is off unless an endpoint is configured, and OTEL_SDK_DISABLED wins', () => {
    const none = { sampleRatio: 1 };
    expect(tracingSettings(none, {})).toBeUndefined();
    expect(tracingSettings(none, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({ url: 'http://collector:4318/v1/traces', serviceName: 'skygraph', sampleRatio: 1 });
    expect(tracingSettings(none, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/traces', OTEL_SERVICE_NAME: 'sg' })).toEqual({
      url: 'http://b:4318/traces',
      serviceName: 'sg',
      sampleRatio: 1,
    });
    expect(tracingSettings({ otlpEndpoint: 'http://c:4318/v1/traces', sampleRatio: 0.5 }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' })?.url).toBe('http://c:4318/v1/traces');
    expect(tracingSettings({ otlpEndpoint: 'http://c:4318/v1/traces', sampleRatio: 1 }, { OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(tracingSettings(none, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
  });

  it('off, sends no traceparent upstream even when the caller sent one', async () => {
    const off = await startTestApp(
      { accounts: [{ id: 'nova-ok', driver: 'openstack', region: 'RegionOne', endpoint: nova.url, credentials: { token: NOVA_TOKEN }, cacheTtlMs: 0 }] },
      { http: TEST_HTTP, env: {} },
    );
    try {
      expect(off.app.tracing).toBeUndefined();
      const before = nova.requests.length;
      const res = await fetch(`${off.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
        body: JSON.stringify({ query: '{ nodes { totalCount } }' }),
      });
      expect(res.status).toBe(200);
      const seen = nova.requests.slice(before);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((r) => r.headers.traceparent === undefined)).toBe(true);
    } finally {
      await off.stop();
    }
  });

  it('refuses a bad server.tracing, naming the field', async () => {
    await expect(startTestApp({ accounts: [], server: { tracing: { otlpEndpoint: 'ftp://x', sampleRatio: 2, color: 'red' } } })).rejects.toThrow(
      /server\.tracing\.color.*\n.*server\.tracing\.otlpEndpoint.*\n.*server\.tracing\.sampleRatio/s,
    );
  });
});
