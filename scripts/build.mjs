/**
 * Builds dist/ with tsc (incremental: only what changed is checked again and emitted).
 *   node scripts/build.mjs             build
 *   node scripts/build.mjs --if-stale  build only when a source is newer than the last build
 *                                      (what `npm start` runs, so an unchanged checkout starts at once)
 * Plain JavaScript, so the check costs one bare node start (~50 ms) and no compiler load.
 */
import { spawnSync } from 'node:child_process';
import console from 'node:console';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';

const ROOT = path.resolve(import.meta.dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** written after every successful build; its mtime is "when dist/ was last built" */
const STAMP = path.join(DIST, '.build-stamp');
const BUILD_INFO = path.join(DIST, '.tsbuildinfo');
/** what the build reads besides src/ */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];

/**
 * The newest mtime of the TypeScript under `dir`, folders included (adding or deleting a file
 * changes its folder's mtime). Other files (src/dashboard) are served as they are, not compiled.
 */
function newest(dir) {
  let latest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) latest = Math.max(latest, newest(full));
    else if (entry.name.endsWith('.ts')) latest = Math.max(latest, statSync(full).mtimeMs);
  }
  return latest;
}

function stale() {
  if (!existsSync(STAMP) || !existsSync(path.join(DIST, 'main.js'))) return true;
  const built = statSync(STAMP).mtimeMs;
  return newest(path.join(ROOT, 'src')) > built || INPUTS.some((f) => statSync(path.join(ROOT, f)).mtimeMs > built);
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);

// why: tsc's incremental mode trusts its build info and would not emit files deleted from dist/
if (!existsSync(path.join(DIST, 'main.js'))) rmSync(BUILD_INFO, { force: true });
const started = Date.now();
const tsc = spawnSync(
  process.execPath,
  [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--incremental', '--tsBuildInfoFile', BUILD_INFO],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) {
  console.error('skygraph: the build failed (see above)');
  process.exit(tsc.status ?? 1);
}
writeFileSync(STAMP, `${new Date().toISOString()}\n`);
if (process.argv.includes('--if-stale')) console.error(`skygraph: built dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s`);
