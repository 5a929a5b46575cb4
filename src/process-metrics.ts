/**
 * Node process metrics on /metrics, named as Prometheus client libraries name them
 * (`process_*`, `nodejs_*`): CPU, memory, file descriptors, event-loop delay and utilisation,
 * GC pauses. Everything is read when /metrics is rendered, except GC pauses (a performance
 * observer) and the event-loop delay (a histogram sampled by libuv every 20 ms); both cost
 * next to nothing.
 */
import { readdirSync } from 'node:fs';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import type { Metrics } from './metrics.ts';

/** Node's PerformanceEntry.detail.kind for gc entries (perf_hooks.constants.NODE_PERFORMANCE_GC_*). */
const GC_KINDS: Record<number, string> = { 1: 'major', 2: 'minor', 4: 'incremental', 8: 'weakcb' };

/** Registers the series; the returned function stops the samplers (runtime.close). */
export function registerProcessMetrics(metrics: Metrics): () => void {
  const startSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  metrics.collect('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds', 'gauge', () => startSeconds);
  metrics.collect('process_cpu_user_seconds_total', 'User CPU time spent, in seconds', 'counter', () => process.cpuUsage().user / 1e6);
  metrics.collect('process_cpu_system_seconds_total', 'System CPU time spent, in seconds', 'counter', () => process.cpuUsage().system / 1e6);
  metrics.collect('process_cpu_seconds_total', 'User and system CPU time spent, in seconds', 'counter', () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1e6;
  });
  metrics.collect('process_resident_memory_bytes', 'Resident memory size, in bytes', 'gauge', () => process.memoryUsage.rss());
  if (process.platform === 'linux') {
    metrics.collect('process_open_fds', 'Open file descriptors', 'gauge', () => readdirSync('/proc/self/fd').length);
  }
  metrics.collect('nodejs_heap_size_total_bytes', 'V8 heap size, in bytes', 'gauge', () => process.memoryUsage().heapTotal);
  metrics.collect('nodejs_heap_size_used_bytes', 'V8 heap used, in bytes', 'gauge', () => process.memoryUsage().heapUsed);
  metrics.collect('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (Buffers included), in bytes', 'gauge', () => process.memoryUsage().external);
  metrics.collect('nodejs_active_resources', 'Resources keeping the event loop alive, by type', 'gauge', () => {
    const counts = new Map<string, number>();
    for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
    return [...counts].map(([type, value]) => ({ labels: { type }, value }));
  });
  metrics.collect('nodejs_version_info', 'Node.js version', 'gauge', () => [{ labels: { version: process.version }, value: 1 }]);

  // why: delay and utilisation are per scrape interval: each render reads the window and starts a new one
  const delay = monitorEventLoopDelay({ resolution: 20 });
  delay.enable();
  let window = { mean: 0, p99: 0, max: 0 };
  const readDelay = () => {
    const ns = (v: number) => (Number.isFinite(v) ? v / 1e9 : 0);
    window = { mean: ns(delay.mean), p99: ns(delay.percentile(99)), max: ns(delay.max) };
    delay.reset();
    return window.mean;
  };
  metrics.collect('nodejs_eventloop_lag_mean_seconds', 'Mean event-loop delay since the previous scrape, in seconds', 'gauge', readDelay);
  metrics.collect('nodejs_eventloop_lag_p99_seconds', '99th percentile event-loop delay since the previous scrape, in seconds', 'gauge', () => window.p99);
  metrics.collect('nodejs_eventloop_lag_max_seconds', 'Longest event-loop delay since the previous scrape, in seconds', 'gauge', () => window.max);
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  metrics.collect('nodejs_eventloop_utilization', 'Share of time the event loop was busy since the previous scrape (0-1)', 'gauge', () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return Number.isFinite(utilization) ? utilization : 0;
  });

  const gc = metrics.histogram('nodejs_gc_duration_seconds', 'Garbage collection pauses, by kind, in seconds', [0.001, 0.01, 0.1, 1, 2, 5]);
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? 'other';
      gc.observe({ kind }, entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  return () => {
    delay.disable();
    observer.disconnect();
  };
}
