/**
 * docs/dashboard.png: the dashboard in Debian's Chromium (playwright-core), on a demo config of a
 * sandbox cloud, a failing account and a local storage account, with one node created through
 * the API while the page is open and one being stopped from its button.
 *   npx tsx scripts/screenshot-dashboard.ts [out.png]
 */
import path from 'node:path';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startTestApp } from '../test/helpers/app.ts';

const OUT = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '../docs/dashboard.png'));

const app = await startTestApp({
  accounts: [
    { id: 'demo', driver: 'sandbox', options: { transitionMs: 4000 }, pollIntervalMs: 500 },
    { id: 'lab', driver: 'sandbox', options: { transitionMs: 4000, nodes: 2 }, pollIntervalMs: 500 },
    { id: 'flaky', driver: 'sandbox', options: { fail: 'RATE_LIMITED' }, pollIntervalMs: 500 },
    { id: 'files', driver: 'local', options: { root: '${TEST_DATA}' } },
  ],
});
const browser = await launchBrowser();
try {
  const page = await browser.page();
  await page.setViewportSize({ width: 1200, height: 900 });
  await page.goto(`${app.url}/dashboard`);
  await page.locator('#live[data-state="live"]').waitFor();
  const refs = await app.gql<{ sizes: { nodes: { id: string }[] }; images: { nodes: { id: string }[] } }>(
    '{ sizes(filter: { accounts: ["demo"] }, first: 1) { nodes { id } } images(filter: { accounts: ["demo"] }, first: 1) { nodes { id } } }',
  );
  await app.gql('mutation($input: CreateNodeInput!) { createNode(input: $input) { node { id } } }', {
    input: { account: 'demo', name: 'api-created-1', size: refs.data!.sizes.nodes[0]!.id, image: refs.data!.images.nodes[0]!.id },
  });
  await page.locator('#nodes tr[data-name="api-created-1"]').waitFor();
  await page.locator('#nodes tr[data-name="worker-02"][data-account="demo"] button.action-stopNode').click();
  await page.locator('#nodes tr[data-name="worker-02"][data-account="demo"] .state-stopping').waitFor();
  await page.locator('[data-account="flaky"] .failure').first().waitFor();
  await page.screenshot({ path: OUT, fullPage: true });
  if (browser.offsite.length) throw new Error(`the page tried to leave 127.0.0.1: ${browser.offsite.join(', ')}`);
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await app.stop();
}
