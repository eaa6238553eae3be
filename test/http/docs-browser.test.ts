// /docs in a real headless browser (Debian's Chromium driven by playwright-core; issue 14, item 5): the page
// renders the national API, and an operation can be tried with a token, as an integrator would.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI (.ci/run) installs Chromium when missing and must run this test; elsewhere it says why it did not run.
const describeWithBrowser = existsSync(CHROMIUM) || process.env.CI ? describe : describe.skip;
if (!existsSync(CHROMIUM)) process.stderr.write(`docs-browser.test.ts: no Chromium at ${CHROMIUM} (apt-get install chromium)${process.env.CI ? '' : '; skipped'}\n`);

describeWithBrowser('/docs in headless Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    s = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // Root in a container: no sandbox; and no calls to the outside world, which this machine refuses.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage();
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await s?.close();
  }, 60_000);

  test('the page renders the national API first, and the full one is a click away', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${s.url}/docs`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'OpenNHIS national API' }).waitFor({ timeout: 60_000 });
    expect(await page.locator('.opblock-tag').count()).toBeGreaterThan(5);
    const selector = page.locator('.topbar select');
    expect(await selector.locator('option').allTextContents()).toEqual(['National API (workflows, registries)', 'Full API (every resource type)']);
    expect(errors).toEqual([]);
  }, 120_000);

  test('Authorize with a token, then try GET /Patient: the server answers 200 with a searchset', async () => {
    await page.goto(`${s.url}/docs/`);
    await page.locator('.swagger-ui .info .title').filter({ hasText: 'OpenNHIS national API' }).waitFor({ timeout: 60_000 });
    // The bearer scheme of the Authorize dialog takes the token.
    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.auth-container').filter({ has: page.locator('h4', { hasText: /^bearer\b/ }) });
    await dialog.locator('input').first().fill(s.tokens.hospital);
    await dialog.locator('button.authorize').click();
    await page.locator('.modal-ux button.close-modal').click();

    // Open the Patient tag, then GET /Patient, then "Try it out" and "Execute".
    await page.locator('.opblock-tag[data-tag="Patient"]').click();
    const operation = page.locator('#operations-Patient-searchPatient');
    await operation.locator('.opblock-summary').click();
    await operation.locator('button.try-out__btn').click();
    await operation.locator('button.execute').click();
    const status = operation.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor({ timeout: 60_000 });
    expect((await status.textContent())?.trim()).toBe('200');
    const body = await operation.locator('.live-responses-table .response-col_description pre').first().textContent();
    expect(body).toContain('"searchset"');
    // The request really carried the token: without it the answer would be 401.
    expect(await operation.locator('.curl-command, .request-url').first().textContent()).toBeTruthy();
  }, 180_000);
});
