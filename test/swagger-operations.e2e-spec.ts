// Every operation's block in Swagger UI, as a user sees it in a real browser (Debian's Chromium driven by
// playwright-core): each of the operations the served OpenAPI document lists is expanded in turn and read
// back from the page. Its parameters appear in the documented order, each with its description rendered
// as written (angle brackets and all); a list of names is a dropdown offering exactly those names; every
// "Example Value" pane holds a real example, no Swagger UI placeholder, and JSON where it says JSON; the
// rule upload's examples say what its 201 and 200 mean. The page, and each block that fails a check, is
// photographed into test-artifacts/swagger-operations/<database>/ (every block would double the run time).
import { existsSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, removeDatabase, startApp, TEST_DATABASE, type RunningApp } from './support/app.js';
import { REPO_ROOT } from './support/shared.js';
import { chromiumMissing, launchChromium, systemToolSuiteTitle } from './support/system-tools.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
/** The operations the API has today: fewer means one went missing from the document. */
const KNOWN_OPERATIONS = 36;
/** What a user can filter hits, rules and alerts by, in the order they read best. */
const SEVERITY_NAMES = ['Info', 'Low', 'Medium', 'High', 'Critical'];
const ALERT_STATES = ['pending', 'open', 'acknowledged', 'closed'];
/** One folder per database: both projects run this suite at the same time. */
const SCREENSHOTS = join(REPO_ROOT, 'test-artifacts', 'swagger-operations', TEST_DATABASE);
/** Long enough for a slow CI machine, short enough that a missing element fails well within the walk. */
const STEP_TIMEOUT_MS = 10_000;
/** Expanding and reading ~40 blocks takes ~45 s on a loaded 2-core machine running both databases. */
const WALK_TIMEOUT_MS = 240_000;

interface DocumentedParameter {
  name: string;
  in: string;
  description?: string;
  schema?: { type?: string; enum?: string[]; items?: { enum?: string[] } };
}
interface DocumentedOperation {
  description?: string;
  parameters?: DocumentedParameter[];
  responses: Record<string, { description?: string }>;
}
interface OpenApiDocument {
  paths: Record<string, Partial<Record<(typeof METHODS)[number], DocumentedOperation>>>;
}

/** What Swagger UI shows inside an expanded operation block. */
interface RenderedOperation {
  description: string;
  parameters: RenderedParameter[];
  responses: { status: string; description: string }[];
  /** Every "Example Value" pane: the request body's and each response's. */
  examples: RenderedExample[];
}
interface RenderedParameter {
  name: string;
  location: string;
  description: string;
  /** The values a dropdown offers (its "--" for no value left out), or null for a text field. */
  options: string[] | null;
}
interface RenderedExample {
  at: string;
  mediaType: string;
  text: string;
}

/** The few DOM members the reader uses (the test is compiled without the DOM library). */
interface PageElement {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  getAttribute(name: string): string | null;
  readonly innerText: string;
  readonly textContent: string | null;
  readonly value: string;
}

/** Runs in the page: reads an expanded block in one pass, so that a slow machine pays one round trip. */
function readBlock(block: PageElement): RenderedOperation {
  const text = (element: PageElement | null) => element?.innerText.trim() ?? '';
  // The example pane of a request body or response: the active tab's code, under its chosen media type.
  const example = (section: PageElement, at: string): RenderedExample[] => {
    const pane = section.querySelector('[data-name="examplePanel"] .highlight-code pre');
    if (pane === null) return [];
    const mediaType = section.querySelector('select.content-type')?.value ?? '';
    return [{ at, mediaType, text: pane.textContent ?? '' }];
  };
  const parameters = [...block.querySelectorAll('table.parameters > tbody > tr[data-param-name]')].map(
    (row) => {
      const cell = row.querySelector('td.parameters-col_description');
      const select = cell?.querySelector('select') ?? null;
      return {
        name: row.getAttribute('data-param-name') ?? '',
        location: row.getAttribute('data-param-in') ?? '',
        // The description is the cell's own Markdown; enum, default and example lines carry a class.
        description: text(
          cell?.querySelector(':scope > .renderedMarkdown:not([class*="parameter__"])') ?? null,
        ),
        options:
          select === null
            ? null
            : [...select.querySelectorAll('option')]
                .map((option) => option.value)
                .filter((value) => value !== ''),
      };
    },
  );
  const requestBody = block.querySelector('.opblock-section-request-body');
  const responseRows = [
    ...block.querySelectorAll('table.responses-table:not(.live-responses-table) > tbody > tr.response'),
  ];
  return {
    description: text(block.querySelector('.opblock-body > .opblock-description-wrapper .renderedMarkdown')),
    parameters,
    responses: responseRows.map((row) => ({
      status: row.getAttribute('data-code') ?? '',
      description: text(row.querySelector('.response-col_description__inner .renderedMarkdown')),
    })),
    examples: [
      ...(requestBody === null ? [] : example(requestBody, 'request body')),
      ...responseRows.flatMap((row) => example(row, `response ${row.getAttribute('data-code') ?? ''}`)),
    ],
  };
}

/** One operation's block, found by method and path rather than by operationId, which may be renamed. */
function operationBlock(page: Page, method: string, path: string): Locator {
  return page.locator(`.opblock.opblock-${method}`, {
    has: page.locator(`.opblock-summary-path[data-path="${path}"]`),
  });
}

/** What Markdown shows of a documented text: code spans lose their backticks, nothing else is lost. */
function shownText(markdown: string | undefined): string {
  return (markdown ?? '').replaceAll('`', '').replace(/\s+/g, ' ').trim();
}

function normalised(shown: string): string {
  return shown.replace(/\s+/g, ' ').trim();
}

/** The values a parameter's input must offer: its enum's, true and false, or none (a text field). */
function expectedOptions(parameter: DocumentedParameter): string[] | null {
  const names = parameter.schema?.enum ?? parameter.schema?.items?.enum;
  if (names !== undefined) return names;
  return parameter.schema?.type === 'boolean' ? ['true', 'false'] : null;
}

/** An operation as documented and as shown. */
interface CheckedOperation {
  name: string;
  documented: DocumentedOperation;
  shown: RenderedOperation;
}

/** Every documented parameter, in order and nothing else, each with its description as written. */
function parameterProblems({ name, documented, shown }: CheckedOperation): string[] {
  const problems: string[] = [];
  const expected = (documented.parameters ?? []).map((parameter) => `${parameter.in} ${parameter.name}`);
  const actual = shown.parameters.map((parameter) => `${parameter.location} ${parameter.name}`);
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    problems.push(`${name}: shows [${actual.join(', ')}], documents [${expected.join(', ')}]`);
  for (const parameter of documented.parameters ?? []) {
    const description = shown.parameters.find((row) => row.name === parameter.name)?.description ?? '';
    if (description === '') problems.push(`${name} ${parameter.name}: no description`);
    else if (normalised(description) !== shownText(parameter.description))
      problems.push(`${name} ${parameter.name}: shows "${description}" for "${parameter.description ?? ''}"`);
  }
  return problems;
}

/** A parameter with an enum is a dropdown of exactly its names; a boolean one of true and false. */
function dropdownProblems({ name, documented, shown }: CheckedOperation): string[] {
  return (documented.parameters ?? []).flatMap((parameter) => {
    const offered = shown.parameters.find((row) => row.name === parameter.name)?.options ?? null;
    const expected = expectedOptions(parameter);
    return JSON.stringify(offered) === JSON.stringify(expected)
      ? []
      : [
          `${name} ${parameter.name}: offers ${JSON.stringify(offered)}, documents ${JSON.stringify(expected)}`,
        ];
  });
}

/** The operation's and each response's description, as written (Markdown that eats nothing). */
function descriptionProblems({ name, documented, shown }: CheckedOperation): string[] {
  const problems: string[] = [];
  if (normalised(shown.description) !== shownText(documented.description))
    problems.push(`${name}: shows "${shown.description}" for "${documented.description ?? ''}"`);
  const statuses = shown.responses.map((response) => response.status);
  if (JSON.stringify(statuses) !== JSON.stringify(Object.keys(documented.responses)))
    problems.push(`${name}: shows responses ${statuses.join(', ')}`);
  for (const response of shown.responses) {
    const written = documented.responses[response.status]?.description;
    if (normalised(response.description) !== shownText(written))
      problems.push(`${name} ${response.status}: shows "${response.description}" for "${written ?? ''}"`);
  }
  return problems;
}

/** Swagger UI's filler for a value the document gives no example of, and its note for one it cannot show. */
const PLACEHOLDER = /"string"|^\s*string\s*$|additionalProp\d|could not generate \w+ example/;

/** Text that Swagger UI shows JSON-quoted (it does so under any media type naming json): one long string. */
function quotedText(example: string): boolean {
  try {
    return typeof JSON.parse(example) === 'string';
  } catch {
    return false;
  }
}

/** Every Example Value pane holds a real example, and JSON where its media type says JSON. */
function exampleProblems({ name, shown }: CheckedOperation): string[] {
  return shown.examples.flatMap((example) => {
    const at = `${name} ${example.at} (${example.mediaType})`;
    const lines = example.text.split('\n');
    // Each filler with the line before it, which names the property it stands for.
    const fillers = lines.flatMap((line, index) =>
      PLACEHOLDER.test(line) ? [`${lines[index - 1]?.trim() ?? ''} ${line.trim()}`.trim()] : [],
    );
    const problems = fillers.map((filler) => `${at}: placeholder ${filler}`);
    if (example.text.trim() === '') problems.push(`${at}: empty`);
    if (quotedText(example.text)) problems.push(`${at}: one quoted string: ${example.text.slice(0, 80)}`);
    if (/^application\/([\w.-]+\+)?json$/.test(example.mediaType)) {
      try {
        JSON.parse(example.text);
      } catch (error) {
        problems.push(`${at}: not JSON (${String(error)})`);
      }
    }
    return problems;
  });
}

const CHECKS = [parameterProblems, dropdownProblems, descriptionProblems, exampleProblems];

describe.skipIf(chromiumMissing() !== undefined)(
  systemToolSuiteTitle('Swagger UI: every operation as a user sees it', chromiumMissing()),
  () => {
    let running: RunningApp;
    let browser: Browser | undefined;
    let page: Page;
    let documented: { method: string; path: string; operation: DocumentedOperation }[];
    /** Filled by the walk, in document order; the other tests read it. */
    const checked: CheckedOperation[] = [];
    const screenshots: string[] = [];

    const nameOf = (method: string, path: string) => `${method.toUpperCase()} ${path}`;
    function problemsOf(check: (operation: CheckedOperation) => string[]): string[] {
      expect(checked, 'every operation was read from the page').toHaveLength(documented.length);
      return checked.flatMap(check);
    }
    function shown(method: string, path: string): RenderedOperation {
      const operation = checked.find((candidate) => candidate.name === nameOf(method, path));
      if (operation === undefined) throw new Error(`${nameOf(method, path)} was not read from the page`);
      return operation.shown;
    }
    function exampleOf(method: string, path: string, at: string): any {
      const pane = shown(method, path).examples.find((example) => example.at === at);
      if (pane === undefined) throw new Error(`${nameOf(method, path)} shows no example for ${at}`);
      return JSON.parse(pane.text);
    }
    async function screenshot(name: string, part: Locator | Page): Promise<void> {
      const file = join(
        SCREENSHOTS,
        `${String(screenshots.length + 1).padStart(2, '0')}-${name.replace(/[^A-Za-z0-9]+/g, '-')}.png`,
      );
      await part.screenshot({ path: file });
      screenshots.push(file);
    }

    beforeAll(async () => {
      await rm(SCREENSHOTS, { recursive: true, force: true });
      await mkdir(SCREENSHOTS, { recursive: true });
      running = await startApp({ builtinRules: false });
      // The document Swagger UI is built from, as a client fetches it: without a key.
      const served = await http<OpenApiDocument>(running.url, 'GET', '/docs-json', { key: null });
      expect(served.status).toBe(200);
      documented = Object.entries(served.body.paths).flatMap(([path, item]) =>
        METHODS.flatMap((method) => {
          const operation = item[method];
          return operation === undefined ? [] : [{ method, path, operation }];
        }),
      );
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

    it(
      'shows one block for every documented operation, and every block opens',
      async () => {
        expect(documented.length).toBeGreaterThanOrEqual(KNOWN_OPERATIONS);
        await page.goto(`${running.url}/docs`);
        await page.locator('.opblock').first().waitFor();
        await screenshot('docs', page);
        // None missing, none shown twice (under two tags).
        expect(await page.locator('.opblock').count()).toBe(documented.length);
        for (const { method, path, operation } of documented) {
          const name = nameOf(method, path);
          const block = operationBlock(page, method, path);
          const toggle = block.locator('.opblock-summary-control');
          try {
            await toggle.click();
            // Expanding fetches the operation's resolved subtree; the responses table appears once it is in.
            await block.locator('table.responses-table').waitFor();
            const result = { name, documented: operation, shown: await block.evaluate(readBlock) };
            checked.push(result);
            // Screenshots cost more than the checks on a slow machine: only a block that fails one is taken.
            if (CHECKS.some((check) => check(result).length > 0)) await screenshot(name, block);
            // Collapsed again, so that the page stays small and a screenshot shows one block.
            await toggle.click();
            await block.locator('.opblock-body').waitFor({ state: 'detached' });
          } catch (error) {
            // The page as it stood when a step gave up; the step's own error is the one to report.
            await screenshot(`${name}-stuck`, page).catch(() => undefined);
            throw error;
          }
        }
        expect(checked.map((operation) => operation.name)).toEqual(
          documented.map(({ method, path }) => nameOf(method, path)),
        );
        for (const file of screenshots) expect(existsSync(file) && statSync(file).size > 0, file).toBe(true);
      },
      WALK_TIMEOUT_MS,
    );

    it('lists every parameter in the documented order, each with its description as written', () => {
      expect(problemsOf(parameterProblems)).toEqual([]);
    });

    it('offers a dropdown of exactly the documented names for a parameter with an enum', () => {
      expect(problemsOf(dropdownProblems)).toEqual([]);
    });

    it('offers severity and alert status as a dropdown of their names wherever they are asked', () => {
      const dropdowns = checked.flatMap(({ name, shown: operation }) =>
        operation.parameters
          .filter((parameter) => parameter.name === 'severity' || parameter.name === 'status')
          .map((parameter) => ({ at: `${name} ${parameter.name}`, ...parameter })),
      );
      // Hits, rules and alerts by severity; alerts by status.
      expect(dropdowns.map((dropdown) => dropdown.at).sort()).toEqual([
        'GET /v1/alerts severity',
        'GET /v1/alerts status',
        'GET /v1/hits severity',
        'GET /v1/rules severity',
      ]);
      for (const dropdown of dropdowns)
        expect(dropdown.options, dropdown.at).toEqual(
          dropdown.name === 'severity' ? SEVERITY_NAMES : ALERT_STATES,
        );
    });

    it('shows every operation and response description as written, field.<name>=<value> with its brackets', () => {
      expect(problemsOf(descriptionProblems)).toEqual([]);
      // The filter syntax, in the operation's description and in its example parameter's.
      const hits = shown('get', '/v1/hits');
      expect(hits.description).toContain('field.<name>=<value>');
      const fieldFilter = hits.parameters.find((parameter) => parameter.name.startsWith('field.'));
      expect(fieldFilter?.description).toContain('field.<name>=<value>');
      expect(fieldFilter?.description).toContain('<name> holds <value>');
    });

    it('fills every Example Value pane with a real example, JSON where the media type says JSON', () => {
      expect(problemsOf(exampleProblems)).toEqual([]);
      // Not vacuous: every operation shows at least one example, most of them several.
      const panes = checked.flatMap((operation) => operation.shown.examples);
      expect(panes.length).toBeGreaterThan(documented.length * 3);
      for (const operation of checked)
        expect(operation.shown.examples.length, operation.name).toBeGreaterThan(0);
    });

    it('shows the rule upload answering 201 created and 200 unchanged, and a replacement 200 updated', () => {
      const created = exampleOf('post', '/v1/rules', 'response 201');
      expect(created.action).toBe('created');
      // The seed rule, the request body's example, is written as condition lines.
      expect(created.rule).toMatchObject({
        ruleId: 'AWS.CloudTrail.VPCE.ExternalPrincipal',
        detectionLanguage: 'condition',
      });
      expect(exampleOf('post', '/v1/rules', 'response 200').action).toBe('unchanged');
      // PUT stores a new version of an existing rule: it never creates one.
      expect(exampleOf('put', '/v1/rules/{ruleId}', 'response 200').action).toBe('updated');
    });
  },
);
