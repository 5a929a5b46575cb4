/**
 * The dashboard and GraphiQL in a real browser: Debian's Chromium driven by playwright-core,
 * against skygraph on 127.0.0.1. Every request that would leave 127.0.0.1 is aborted and must
 * not happen (the pages ship their own assets).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

const WRITE = 'dashboard-write-token-0123456789';
const READ = 'dashboard-read-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let browser: Browser;
let t: TestApp;
beforeAll(async () => {
  browser = await launchBrowser();
  t = await startTestApp({
    accounts: [
      { id: 'demo', driver: 'sandbox', options: { transitionMs: 300 }, pollIntervalMs: 250 },
      { id: 'broken', driver: 'sandbox', options: { fail: 'RATE_LIMITED' }, pollIntervalMs: 250 },
    ],
    server: {
      tokens: [
        { name: 'operator', token: WRITE, scope: 'write' },
        { name: 'viewer', token: READ, scope: 'read' },
      ],
    },
  });
});
afterAll(async () => {
  await browser?.close();
  await t?.stop();
});

/** Opens the dashboard in a new tab and signs in with `token`. */
async function openDashboard(token: string): Promise<Page> {
  const page = await browser.page();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const res = await page.goto(`${t.url}/dashboard`);
  expect(res?.status()).toBe(200);
  await page.locator('#token-form').waitFor({ state: 'visible' });
  await page.fill('#token', token);
  await page.click('#token-form button[type=submit]');
  await page.locator('#board').waitFor({ state: 'visible' });
  await expect.poll(() => page.textContent('#live'), { timeout: 10_000 }).toBe('live');
  expect(errors).toEqual([]);
  return page;
}

async function createNode(name: string): Promise<string> {
  const refs = await t.gql<{ sizes: { nodes: { id: string }[] }; images: { nodes: { id: string }[] } }>(
    '{ sizes(filter: { accounts: ["demo"] }, first: 1) { nodes { id } } images(filter: { accounts: ["demo"] }, first: 1) { nodes { id } } }',
    {},
    bearer(WRITE),
  );
  const created = await t.gql<{ createNode: { node: { id: string } } }>(
    'mutation($input: CreateNodeInput!) { createNode(input: $input) { node { id } } }',
    { input: { account: 'demo', name, size: refs.data!.sizes.nodes[0]!.id, image: refs.data!.images.nodes[0]!.id } },
    bearer(WRITE),
  );
  expect(created.errors).toBeUndefined();
  return created.data!.createNode.node.id;
}

const stateCell = (page: Page, name: string) => page.locator(`#nodes tr[data-name="${name}"] td.state`);

describe('browser: the dashboard', () => {
  it('shows a failing account with its code, and a node created through the API without a reload', async () => {
    const page = await openDashboard(WRITE);
    const broken = page.locator('#accounts [data-account="broken"]');
    await expect.poll(() => broken.textContent()).toContain('FAILING');
    expect(await broken.textContent()).toContain('RATE_LIMITED');
    expect(await page.locator('#accounts [data-account="demo"]').textContent()).toContain('OK');

    // why: a marker in the page's window survives only if the page is never reloaded
    await page.evaluate(() => Object.assign(globalThis, { dashboardMarker: 'still here' }));
    expect(await page.locator('#nodes tr[data-name="from-the-api"]').count()).toBe(0);
    await createNode('from-the-api');
    await page.locator('#nodes tr[data-name="from-the-api"]').waitFor({ timeout: 10_000 });
    // the poller sees it come up: PENDING, then RUNNING, pushed to the page as it happens
    await expect.poll(() => stateCell(page, 'from-the-api').textContent(), { timeout: 10_000 }).toBe('RUNNING');
    expect(await page.evaluate(() => (globalThis as { dashboardMarker?: string }).dashboardMarker)).toBe('still here');
    expect(browser.offsite).toEqual([]);
    await page.close();
  });

  it('stops a node from its button with a write token, and the page follows the node to STOPPED', async () => {
    const page = await openDashboard(WRITE);
    const row = page.locator('#nodes tr[data-name="web-01"]');
    await expect.poll(() => stateCell(page, 'web-01').textContent()).toBe('RUNNING');
    await row.locator('button.action-stopNode').click();
    await expect.poll(() => stateCell(page, 'web-01').textContent(), { timeout: 10_000 }).toBe('STOPPED');
    const node = await t.gql<{ nodes: { nodes: { state: string }[] } }>('{ nodes(filter: { name: "web-01" }) { nodes { state } } }', {}, bearer(READ));
    expect(node.data!.nodes.nodes.map((n) => n.state)).toEqual(['STOPPED']);
    // stopped, it offers Start and no longer Stop
    expect(await row.locator('button.action-startNode').isEnabled()).toBe(true);
    expect(await row.locator('button.action-stopNode').isDisabled()).toBe(true);
    await page.close();
  });

  it('shows no action buttons to a read token', async () => {
    const page = await openDashboard(READ);
    expect(await page.textContent('#viewer')).toContain('viewer · read');
    await expect.poll(() => page.locator('#nodes tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#nodes button').count()).toBe(0);
    await page.close();
  });

  it('asks again when the token is refused', async () => {
    const page = await browser.page();
    await page.goto(`${t.url}/dashboard`);
    await page.fill('#token', 'not-a-token-of-this-server');
    await page.click('#token-form button[type=submit]');
    await expect.poll(() => page.textContent('#token-form .error')).toContain('refused');
    expect(await page.locator('#board').isHidden()).toBe(true);
    await page.close();
  });
});

describe('browser: GraphiQL', () => {
  /** Types a small query into GraphiQL's editor, runs it and answers the result pane's text. */
  async function runQuery(page: Page): Promise<string> {
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 20_000 });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.press('Delete');
    // why: Monaco closes brackets itself; typing only the opening ones leaves a complete document
    await page.keyboard.type('{ viewer { name } accounts { id health { status ');
    // why: the schema-aware autocompletion (the GraphQL worker, served locally too) may be open over the run button
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Enter');
    // why: Monaco renders spaces as U+00A0
    const result = async () => (await page.locator('.result-window').innerText()).replace(/\u00a0/g, ' ');
    await expect.poll(result, { timeout: 10_000 }).toContain('"accounts"');
    return result();
  }

  it('works offline from the package assets, with no token configured', async () => {
    const open = await startTestApp({ accounts: [{ id: 'demo', driver: 'sandbox' }] });
    const page = await browser.page();
    try {
      const res = await page.goto(`${open.url}/graphql`);
      expect(res?.status()).toBe(200);
      const result = await runQuery(page);
      expect(result).toContain('"demo"');
      expect(result).toContain('"name": "anonymous"');
      expect(browser.offsite).toEqual([]);
    } finally {
      await page.close();
      await open.stop();
    }
  });

  it('with tokens, loads without one (no 401), asks for it, then runs queries with it', async () => {
    const page = await browser.page();
    const res = await page.goto(`${t.url}/graphql`);
    expect(res?.status()).toBe(200);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token', READ);
    await page.click('#token-form button[type=submit]');
    const result = await runQuery(page);
    expect(result).toContain('"broken"');
    expect(result).toContain('"name": "viewer"');
    expect(result).not.toContain('UNAUTHENTICATED');
    expect(await page.evaluate(() => sessionStorage.getItem('skygraph.token'))).toBe(READ);
    expect(browser.offsite).toEqual([]);
    await page.close();
  });
});
