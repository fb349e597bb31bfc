// The README's first steps, done in a real browser: Swagger UI at /docs, "Authorize" with an API key, then
// "Try it out" → "Execute" on the founding rule, the seed events and the hits they make. Debian's Chromium
// driven by playwright-core; a screenshot of each step goes to test-artifacts/swagger-ui/<database>/.
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  http,
  removeDatabase,
  startApp,
  TEST_ADMIN_KEY,
  TEST_DATABASE,
  type RunningApp,
} from './support/app.js';
import { REPO_ROOT } from './support/shared.js';
import { chromiumMissing, launchChromium, systemToolSuiteTitle } from './support/system-tools.js';

const SEED_RULE_ID = 'AWS.CloudTrail.VPCE.ExternalPrincipal';
const EXTERNAL_ACCOUNT_ID = '111111111111';
/** One folder per database: both projects run this suite at the same time. */
const SCREENSHOTS = join(REPO_ROOT, 'test-artifacts', 'swagger-ui', TEST_DATABASE);
/** Long enough for a slow CI machine, short enough that a missing element fails well within the test timeout. */
const STEP_TIMEOUT_MS = 10_000;

/** One operation's block, found by method and path rather than by operationId, which may be renamed. */
function operation(page: Page, method: string, path: string): Locator {
  return page.locator(`.opblock.opblock-${method}`, {
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
}

/** Expands an operation, presses "Try it out" and waits until "Execute" can be pressed. */
async function tryItOut(page: Page, method: string, path: string): Promise<Locator> {
  const block = operation(page, method, path);
  await block.locator('.opblock-summary').first().click();
  await block.locator('.try-out__btn').click();
  await block.locator('.execute').waitFor();
  return block;
}

/** Presses "Execute" and returns the status and the body the UI shows for the live answer. */
async function execute(block: Locator): Promise<{ status: string; body: string }> {
  await block.locator('.execute').click();
  const live = block.locator('.responses-wrapper .live-responses-table .response');
  await live.first().waitFor();
  const status = (await live.first().locator('.response-col_status').innerText()).trim();
  const body = await live
    .first()
    .locator('.response-col_description .highlight-code pre')
    .first()
    .innerText();
  return { status, body };
}

describe.skipIf(chromiumMissing() !== undefined)(
  systemToolSuiteTitle('Swagger UI in a real browser', chromiumMissing()),
  () => {
    let running: RunningApp;
    let browser: Browser | undefined;
    let page: Page;
    const taken: string[] = [];

    /** The part of the page a step is about (the whole page is thousands of pixels tall), or the viewport. */
    async function screenshot(step: string, part?: Locator): Promise<void> {
      const file = join(SCREENSHOTS, `${String(taken.length + 1).padStart(2, '0')}-${step}.png`);
      await (part ?? page).screenshot({ path: file });
      taken.push(file);
    }

    beforeAll(async () => {
      await rm(SCREENSHOTS, { recursive: true, force: true });
      await mkdir(SCREENSHOTS, { recursive: true });
      running = await startApp();
      browser = await launchChromium();
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.setDefaultTimeout(STEP_TIMEOUT_MS);
    });

    afterAll(async () => {
      // Closed even when a step failed, so that no Chromium outlives the run.
      await browser?.close();
      await running.close();
      await removeDatabase(running);
    });

    it('authorizes with a key, uploads the founding rule, sends the seed events and finds the seed hit', async () => {
      await page.goto(`${running.url}/docs`);
      await page.locator('.opblock').first().waitFor();
      await screenshot('docs');

      // Authorize: the one security scheme, api-key (http bearer), takes the key as it stands.
      await page.locator('.auth-wrapper .btn.authorize').click();
      const dialog = page.locator('.modal-ux');
      await dialog.locator('input#auth-bearer-value').fill(TEST_ADMIN_KEY);
      await dialog.locator('button[type="submit"].authorize').click();
      // Once applied, the field gives way to "Authorized" and a Logout button.
      await dialog.locator('h6', { hasText: 'Authorized' }).waitFor();
      await dialog.getByRole('button', { name: 'Remove authorization' }).waitFor();
      await screenshot('authorized', dialog.locator('.modal-ux-inner'));
      await dialog.locator('.btn-done').click();
      await dialog.waitFor({ state: 'detached' });

      // The example is the founding rule, which the built-in pack already holds in its longer form (comments,
      // expectations), so the upload differs from the current version: a new version, 201.
      const ruleBlock = await tryItOut(page, 'post', '/v1/rules');
      const rule = await execute(ruleBlock);
      await screenshot('rule-uploaded', ruleBlock);
      expect(rule.status, rule.body).toBe('201');
      expect(rule.body).toContain(SEED_RULE_ID);
      const versions = await http(running.url, 'GET', `/v1/rules/${SEED_RULE_ID}/versions`);
      expect(versions.status).toBe(200);
      expect(versions.body.items).toHaveLength(2);

      // The ingest example is the seed's three events: one of them is the external principal.
      const eventsBlock = await tryItOut(page, 'post', '/v1/events');
      const events = await execute(eventsBlock);
      await screenshot('events-sent', eventsBlock);
      expect(events.status, events.body).toBe('200');
      expect(JSON.parse(events.body)).toMatchObject({ received: 3, accepted: 3, rejectedCount: 0, hits: 1 });

      const hitsBlock = await tryItOut(page, 'get', '/v1/hits');
      // Try it out pre-fills each parameter's example (severity High,Critical would hide the Medium seed hit):
      // clear them all, as a user looking for one rule's hits would, then ask for the founding rule.
      const parameterInputs = hitsBlock.locator('tr[data-param-name] input[type="text"]');
      for (let index = 0; index < (await parameterInputs.count()); index++)
        await parameterInputs.nth(index).fill('');
      await hitsBlock.locator('tr[data-param-name="ruleId"] input').fill(SEED_RULE_ID);
      const hits = await execute(hitsBlock);
      await screenshot('hits-found', hitsBlock);
      expect(hits.status, hits.body).toBe('200');
      const found = JSON.parse(hits.body) as { items: { ruleId: string; outputFields: unknown }[] };
      expect(found.items).toHaveLength(1);
      expect(found.items[0]?.ruleId).toBe(SEED_RULE_ID);
      expect(JSON.stringify(found.items[0]?.outputFields)).toContain(EXTERNAL_ACCOUNT_ID);

      expect(taken).toHaveLength(5);
      for (const file of taken) expect(existsSync(file) && statSync(file).size > 0, file).toBe(true);
    });
  },
);
