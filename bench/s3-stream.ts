/**
 * Streams a 1 GiB object up and down through skygraph (PUT /objects/<container id>/<name>,
 * GET /objects/<object id>) to a local S3 server, and the same bytes directly to that server
 * two ways: presigned PUT/GET URLs with fetch streaming (one PutObject and one GetObject from this
 * same client, the server's raw speed: the baseline of the ratio), and the s3 driver used in this
 * process (the same upload skygraph does, without the hop through skygraph). Prints throughput of
 * all three, the ratios (target >= 0.8) and skygraph's peak RSS (target < 200 MB, sampled every
 * 20 ms from /proc/<pid>/status VmRSS).
 *
 *   npx tsx bench/s3-stream.ts [--size-mib 1024] [--rounds 3] [--threshold-mib 16] [--single-put-mib 5120]
 *                              [--part-mib 8] [--s3-dir /dev/shm] [--cpu-prof-dir DIR]
 *
 * skygraph's account sets singlePutMaxBytes (default here 5 GiB, the PutObject limit), so a body
 * with a Content-Length goes up as one streamed PutObject like the presigned baseline; pass
 * --single-put-mib 0 to measure the multipart path instead.
 *
 * The S3 server is s3rver in its own process (started with --openssl-legacy-provider), skygraph
 * runs as a child process exactly as `npm start` does, with an s3 account pointing at s3rver.
 * skygraph's reported MD5 is checked, and every download is hashed and compared.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { s3Provider } from '../src/providers/aws/s3/index.ts';
import type { StorageDriver } from '../src/providers/types.ts';
import { testDriverContext } from '../test/helpers/driver-context.ts';
import { startS3rverProcess } from '../test/helpers/s3rver.ts';
import { startServerProcess, useCompiledServer } from '../test/helpers/server-process.ts';

// why: measure what `npm start` runs (the compiled build), not the tsx loader
useCompiledServer();

const MiB = 1024 * 1024;
const CHUNK = MiB;
const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    rounds: { type: 'string', default: '3' },
    // the driver defaults; --threshold-mib above the size makes skygraph stream one PutObject
    'threshold-mib': { type: 'string', default: '16' },
    // known sizes up to this go as one streamed PutObject (0: multipart above the threshold)
    'single-put-mib': { type: 'string', default: '5120' },
    'part-mib': { type: 'string', default: '8' },
    // why: a tmpfs keeps the shared disk's noise out of the numbers (s3rver writes every byte, twice for multipart)
    's3-dir': { type: 'string', default: existsSync('/dev/shm') ? '/dev/shm' : tmpdir() },
    // writes a V8 CPU profile of skygraph there when it exits (open it in Chrome DevTools)
    'cpu-prof-dir': { type: 'string' },
    // extra node flags for skygraph, space-separated (e.g. "--max-semi-space-size=32")
    'server-node-args': { type: 'string', default: '' },
  },
});
const SIZE = Number(values['size-mib']) * MiB;
const ROUNDS = Number(values.rounds);
const OPTIONS = {
  multipartThresholdBytes: Number(values['threshold-mib']) * MiB,
  singlePutMaxBytes: Number(values['single-put-mib']) * MiB,
  partSizeBytes: Number(values['part-mib']) * MiB,
};

/** 1 MiB of pseudo-random bytes, repeated: cheap to produce, not compressible. */
const pattern = Buffer.alloc(CHUNK);
for (let i = 0, x = 0x2545f491; i < CHUNK; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  pattern[i] = x & 0xff;
}

function body(size: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(CHUNK, size - sent);
      // why: the same read-only bytes every time; producing data must cost this process nothing
      controller.enqueue(pattern.subarray(0, n));
      sent += n;
    },
  });
}

function expectedHash(size: number, algorithm: string): string {
  const hash = createHash(algorithm);
  for (let done = 0; done < size; done += CHUNK) hash.update(pattern.subarray(0, Math.min(CHUNK, size - done)));
  return hash.digest('hex');
}

function drain(res: Response): Promise<{ bytes: number; sha256: string }> {
  if (!res.ok || !res.body) throw new Error(`GET answered ${res.status}`);
  return drainStream(res.body as unknown as AsyncIterable<Uint8Array>);
}

/** The same bytes as body(), as an async iterable for the driver. */
async function* nodeBody(size: number): AsyncGenerator<Uint8Array> {
  for (let sent = 0; sent < size; sent += CHUNK) yield pattern.subarray(0, Math.min(CHUNK, size - sent));
}

/**
 * Counts and hashes a download. why SHA-256: this CPU has SHA instructions (about 700 MiB/s) but
 * MD5 runs at about 320 MiB/s, which would make the checker the bottleneck of every download.
 */
async function drainStream(stream: AsyncIterable<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`bench check failed: ${what}`);
}

const mibps = (seconds: number) => SIZE / MiB / seconds;

const s3 = await startS3rverProcess({ parentDir: values['s3-dir'] });
const server = await startServerProcess({
  accounts: [
    { id: 's3', driver: 's3', endpoint: s3.endpoint, credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, options: OPTIONS },
  ],
}, {}, [
  ...values['server-node-args'].split(' ').filter(Boolean),
  ...(values['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] : []),
]);
let completeSentAt = 0;
const ctx = testDriverContext(
  { driver: 's3', endpoint: s3.endpoint, regions: ['us-east-1'], credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }, options: OPTIONS },
  {
    region: 'us-east-1',
    recordCall: (operation) => {
      if (operation === 'CompleteMultipartUpload') completeSentAt = performance.now();
    },
  },
);
const direct = s3Provider.create(ctx);
const driver = direct.storage as StorageDriver;

let peakRss = 0;
let phasePeak = 0;
const sampler = setInterval(() => {
  try {
    const rss = server.rss();
    peakRss = Math.max(peakRss, rss);
    phasePeak = Math.max(phasePeak, rss);
  } catch {
    // the process is gone; the bench fails below
  }
}, 20);
/** CPU seconds (user + system) skygraph has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s) */
function cpuSeconds(): number {
  const stat = readFileSync(`/proc/${server.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
/** the peak RSS of skygraph while `fn` ran, and the CPU time it used */
async function phase<T>(fn: () => Promise<T>): Promise<T & { peak: number; cpu: number }> {
  phasePeak = server.rss();
  const cpuBefore = cpuSeconds();
  const value = await fn();
  return { ...value, peak: phasePeak, cpu: cpuSeconds() - cpuBefore };
}

try {
  const md5 = expectedHash(SIZE, 'md5');
  const sha256 = expectedHash(SIZE, 'sha256');
  const gql = async <T>(query: string): Promise<T> => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    const json = (await res.json()) as { data?: T; errors?: unknown };
    if (!json.data || json.errors) throw new Error(`GraphQL failed: ${JSON.stringify(json.errors)}`);
    return json.data;
  };
  const { createContainer } = await gql<{ createContainer: { id: string } }>('mutation { createContainer(account: "s3", name: "bench-s3-stream") { id } }');
  const warm = await fetch(`${server.url}/objects/${createContainer.id}/warm`, { method: 'PUT', body: 'warm up' });
  check(warm.status === 201, `warm-up PUT answered ${warm.status}`);
  await drain(await fetch(`${server.url}/objects/${((await warm.json()) as { id: string }).id}`));
  const baselineRss = server.rss();
  peakRss = baselineRss;

  type Leg = { up: number; down: number };
  const results: { presigned: Leg; driver: Leg & { complete: number }; skygraph: Leg & { upPeak: number; downPeak: number } }[] = [];
  const bucket = 'bench-s3-stream';
  for (let round = 1; round <= ROUNDS; round++) {
    // direct 1: presigned URLs + fetch, one streamed PUT and one GET (the raw speed of the server)
    const putUrl = await driver.createUploadUrl!(bucket, 'presigned.bin', 3600);
    const presignedUp = await timed(async () => {
      const res = await fetch(putUrl.url, { method: 'PUT', body: body(SIZE), duplex: 'half', headers: { 'content-length': String(SIZE) } } as RequestInit);
      await res.arrayBuffer();
      check(res.ok, `presigned PUT answered ${res.status}`);
    });
    const getUrl = await driver.getDownloadUrl!(bucket, 'presigned.bin', 3600);
    const presignedDown = await timed(async () => drain(await fetch(getUrl)));
    check(presignedDown.value.bytes === SIZE && presignedDown.value.sha256 === sha256, 'presigned download returned other bytes');
    await driver.deleteObject(bucket, 'presigned.bin');

    // direct 2: the s3 driver in this process (the same upload as skygraph, without the HTTP hop through skygraph)
    completeSentAt = 0;
    const driverUp = await timed(() => driver.uploadObject(bucket, 'driver.bin', nodeBody(SIZE), { size: SIZE }));
    // why: s3rver reads, hashes and writes every part again when the upload completes; show what that costs
    const completeSeconds = completeSentAt ? (performance.now() - completeSentAt) / 1000 : 0;
    check(driverUp.value.hash === md5, 'the driver reported another MD5');
    const driverDown = await timed(async () => drainStream((await driver.downloadObject(bucket, 'driver.bin')).body));
    check(driverDown.value.bytes === SIZE && driverDown.value.sha256 === sha256, 'driver download returned other bytes');
    await driver.deleteObject(bucket, 'driver.bin');

    // through skygraph: PUT /objects/<container id>/<name>, GET /objects/<object id>
    const up = await phase(() =>
      timed(async () => {
        const res = await fetch(`${server.url}/objects/${createContainer.id}/through.bin`, {
          method: 'PUT',
          body: body(SIZE),
          duplex: 'half',
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(SIZE) },
        } as RequestInit);
        const json = (await res.json()) as { id: string; size: number; hash: string };
        check(res.status === 201, `skygraph PUT answered ${res.status}: ${JSON.stringify(json)}`);
        return json;
      }),
    );
    check(up.value.size === SIZE && up.value.hash === md5, 'skygraph reported another size or MD5');
    const down = await phase(() => timed(async () => drain(await fetch(`${server.url}/objects/${up.value.id}`))));
    check(down.value.bytes === SIZE && down.value.sha256 === sha256, 'skygraph download returned other bytes');
    await driver.deleteObject(bucket, 'through.bin');

    const r = {
      presigned: { up: presignedUp.seconds, down: presignedDown.seconds },
      driver: { up: driverUp.seconds, down: driverDown.seconds, complete: completeSeconds },
      skygraph: { up: up.seconds, down: down.seconds, upPeak: up.peak, downPeak: down.peak },
    };
    results.push(r);
    const fmt = (l: Leg) => `${mibps(l.up).toFixed(1)} up / ${mibps(l.down).toFixed(1)} down`;
    console.log(`round ${round}: presigned ${fmt(r.presigned)}; driver ${fmt(r.driver)}; skygraph ${fmt(r.skygraph)} MiB/s`);
    // why: on a shared machine the load moves between rounds; a ratio within one round compares like with like
    console.log(
      `         skygraph/presigned this round: ${(r.presigned.up / r.skygraph.up).toFixed(2)} up, ${(r.presigned.down / r.skygraph.down).toFixed(2)} down; ` +
        `skygraph peak RSS ${(Math.max(r.skygraph.upPeak, r.skygraph.downPeak) / 1e6).toFixed(1)} MB, ` +
        `CPU ${up.cpu.toFixed(1)} s up / ${down.cpu.toFixed(1)} s down`,
    );
    if (completeSeconds) {
      console.log(`         driver upload ${driverUp.seconds.toFixed(1)} s, of which CompleteMultipartUpload ${completeSeconds.toFixed(1)} s`);
    }
  }
  clearInterval(sampler);
  await driver.deleteObject(bucket, 'warm');
  await gql(`mutation { deleteContainer(id: "${createContainer.id}") }`).catch(() => undefined);

  const best = (pick: (r: (typeof results)[number]) => number) => Math.min(...results.map(pick));
  console.log(`\n${SIZE / MiB} MiB object, ${ROUNDS} round(s), best of each; S3 server: s3rver 3.7 in its own process, data in ${values['s3-dir']}; skygraph: child process`);
  console.log(
    `options: singlePutMaxBytes ${OPTIONS.singlePutMaxBytes / MiB} MiB, multipartThresholdBytes ${OPTIONS.multipartThresholdBytes / MiB} MiB, ` +
      `partSizeBytes ${OPTIONS.partSizeBytes / MiB} MiB (2 parts in flight)`,
  );
  console.log('            presigned MiB/s  driver MiB/s  skygraph MiB/s  skygraph/presigned  skygraph/driver   (target >= 0.8)');
  for (const dir of ['up', 'down'] as const) {
    const [p, d, t] = [best((r) => r.presigned[dir]), best((r) => r.driver[dir]), best((r) => r.skygraph[dir])];
    const cells = [mibps(p), mibps(d), mibps(t)].map((v, i) => v.toFixed(1).padStart([15, 13, 15][i]!));
    console.log(`${(dir === 'up' ? 'upload' : 'download').padEnd(10)} ${cells.join(' ')}  ${(p / t).toFixed(2).padStart(18)}  ${(d / t).toFixed(2).padStart(15)}`);
  }
  const upPeak = Math.max(...results.map((r) => r.skygraph.upPeak));
  const downPeak = Math.max(...results.map((r) => r.skygraph.downPeak));
  console.log(
    `skygraph RSS: baseline ${(baselineRss / 1e6).toFixed(1)} MB, peak ${(peakRss / 1e6).toFixed(1)} MB ` +
      `(upload ${(upPeak / 1e6).toFixed(1)}, download ${(downPeak / 1e6).toFixed(1)}; target < 200 MB)`,
  );
} finally {
  clearInterval(sampler);
  await direct.close?.();
  await server.stop();
  await s3.stop();
}
