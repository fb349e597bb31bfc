// The OpenAPI document and Swagger UI: every operation is tagged, described and lists its error answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, removeDatabase, startApp, type RunningApp } from './support/app.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

describe('OpenAPI document and Swagger UI', () => {
  let running: RunningApp;
  let document: any;

  beforeAll(async () => {
    running = await startApp({ builtinRules: false });
    document = (await http(running.url, 'GET', '/docs-json')).body;
  });

  afterAll(async () => {
    await running.close();
    await removeDatabase(running);
  });

  it('serves Swagger UI at /docs', async () => {
    const page = await http(running.url, 'GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('swagger-ui');
    const asset = await http(running.url, 'GET', '/docs/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
  });

  it('tags, summarises and describes every operation, with its error answers', () => {
    const operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(
      ([path, item]) =>
        METHODS.filter((method) => item[method]).map((method) => ({ path, method, operation: item[method] })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(13);
    for (const { path, method, operation } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      expect(operation.tags?.length, name).toBeGreaterThan(0);
      expect(operation.summary, name).toBeTruthy();
      const statuses = Object.keys(operation.responses);
      expect(
        statuses.some((status) => status.startsWith('2')),
        name,
      ).toBe(true);
      if (path.startsWith('/v1/')) {
        expect(
          statuses.some((status) => /^[45]/.test(status)),
          `${name} documents its errors`,
        ).toBe(true);
        for (const status of statuses.filter((s) => /^[45]/.test(s))) {
          expect(Object.keys(operation.responses[status].content ?? {}), `${name} ${status}`).toEqual([
            'application/problem+json',
          ]);
        }
        // Database faults: any operation may meet one; only one that writes, a full disk.
        expect(statuses, name).toEqual(expect.arrayContaining(['500', '503']));
        expect(statuses.includes('507'), name).toBe(method !== 'get');
      }
    }
  });

  it('gives every query parameter a schema and a description, lists of names their names, in order', () => {
    const parameters = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(
      ([path, item]) =>
        METHODS.filter((method) => item[method]).flatMap((method) =>
          ((item[method].parameters ?? []) as any[])
            .filter((parameter) => parameter.in === 'query')
            .map((parameter) => ({ at: `${method.toUpperCase()} ${path} ?${parameter.name}`, parameter })),
        ),
    );
    expect(parameters.length).toBeGreaterThanOrEqual(30);
    for (const { at, parameter } of parameters) {
      expect(parameter.schema?.type, at).toMatch(/^(string|integer|boolean|array|number)$/);
      expect(parameter.description, at).toBeTruthy();
    }
    const hits = document.paths['/v1/hits'].get.parameters.map((parameter: any) => parameter.name);
    expect(hits.slice(0, 4)).toEqual(['ruleId', 'severity', 'logType', 'alertId']);
    const severity = document.paths['/v1/hits'].get.parameters.find((p: any) => p.name === 'severity');
    expect(severity.schema.items.enum).toEqual(['Info', 'Low', 'Medium', 'High', 'Critical']);
    const status = document.paths['/v1/alerts'].get.parameters.find((p: any) => p.name === 'status');
    expect(status.schema.items.enum).toEqual(['pending', 'open', 'acknowledged', 'closed']);
    // Swagger UI renders descriptions as Markdown: angle brackets outside code would vanish.
    const descriptions = JSON.stringify(document).match(/field\.<name>=<value>/g) ?? [];
    expect(descriptions.length).toBeGreaterThan(0);
    expect(JSON.stringify(document)).not.toMatch(/[^`]field\.<name>=<value>[^`]/);
  });

  it('offers rule bodies as editable YAML text with the seed rule as example, and JSON', () => {
    const body = document.paths['/v1/rules'].post.requestBody;
    expect(Object.keys(body.content)).toEqual(['application/yaml', 'application/json']);
    expect(body.content['application/yaml'].schema).toEqual({ type: 'string' });
    expect(body.content['application/yaml'].example).toContain(
      'RuleID: AWS.CloudTrail.VPCE.ExternalPrincipal',
    );
    expect(body.content['application/yaml'].example).toContain(
      'recipientAccountId cross_field_compare "userIdentity.accountId"',
    );
    expect(document.paths['/v1/rules/import'].post.requestBody.content['application/yaml'].example).toContain(
      '---',
    );
    expect(document.paths['/v1/rules/{ruleId}'].put.requestBody.content['application/yaml'].schema).toEqual({
      type: 'string',
    });
  });

  it('the seed example passes its own tests when created as it stands', async () => {
    const example = document.paths['/v1/rules'].post.requestBody.content['application/yaml']
      .example as string;
    const created = await http(running.url, 'POST', '/v1/rules', { body: example });
    expect(created.status).toBe(201);
    expect(created.body.action).toBe('created');
    expect(created.body.tests).toHaveLength(3);
    expect(created.body.tests.every((test: { passed: boolean }) => test.passed)).toBe(true);
    // The documented answers look like the real one: the same fields, and the seed's real values.
    const responses = document.paths['/v1/rules'].post.responses;
    const documented = responses['201'].content['application/json'].example;
    expect(Object.keys(documented.rule).sort()).toEqual(Object.keys(created.body.rule).sort());
    expect(documented.rule).toMatchObject({
      ruleId: created.body.rule.ruleId,
      severity: created.body.rule.severity,
      detectionLanguage: created.body.rule.detectionLanguage,
      reports: created.body.rule.reports,
    });
    expect(responses['200'].content['application/json'].example.action).toBe('unchanged');
    const again = await http(running.url, 'POST', '/v1/rules', { body: example });
    expect(again.status).toBe(200);
    expect(again.body.action).toBe('unchanged');
  });

  it('every answer carries an x-request-id, and keeps the caller’s', async () => {
    const mine = await http(running.url, 'GET', '/healthz', { headers: { 'x-request-id': 'abc-123' } });
    expect(mine.headers.get('x-request-id')).toBe('abc-123');
    const generated = await http(running.url, 'GET', '/v1/rules/Nope');
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(generated.body.requestId).toBe(generated.headers.get('x-request-id'));
  });

  it('sends headers that keep API answers from being sniffed, framed or rendered', async () => {
    const api = await http(running.url, 'GET', '/v1/rules');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
    expect(api.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(api.headers.get('access-control-allow-origin')).toBeNull();
    const docs = await http(running.url, 'GET', '/docs');
    expect(docs.headers.get('content-security-policy')).toBeNull();
  });

  it('answers health and readiness', async () => {
    expect((await http(running.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await http(running.url, 'GET', '/readyz')).body).toEqual({ status: 'ready', database: 'ok' });
  });

  it('answers an unknown route with a problem document', async () => {
    const missing = await http(running.url, 'GET', '/v2/rules');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ code: 'route_not_found', status: 404 });
  });
});
