/**
 * Debian's Chromium (apt package `chromium`, installed by scripts/install-test-deps.sh) driven
 * by playwright-core: no browser download. Headless, with a fresh profile folder that is removed
 * on close, and the flags that keep it from reaching out to the network on its own.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.SKYGRAPH_TEST_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** a new tab (its own sessionStorage); every request not to 127.0.0.1 is aborted and recorded in `offsite` */
  page(): Promise<Page>;
  /** URLs of requests that tried to leave 127.0.0.1 */
  offsite: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-test-deps.sh (Debian package chromium)`);
  const profile = mkdtempSync(path.join(tmpdir(), 'skygraph-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1280, height: 800 } });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const offsite: string[] = [];
  // why: the pages must work offline; anything not local is refused and remembered, so a test can assert there was none
  await context.route(
    (url) => url.hostname !== '127.0.0.1',
    (route) => {
      offsite.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  return {
    context,
    offsite,
    page: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
