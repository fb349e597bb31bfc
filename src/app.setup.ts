// Builds and configures the application once, the same way for main.ts and the e2e tests: the Fastify
// adapter, versioning, validation, problem+json errors, body parsers and the OpenAPI document.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Logger, VersioningType } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, type AppStart } from './app.module.js';
import { ProblemDto, problemResponse } from './common/openapi.js';
import { answerConnectionError, ProblemFilter } from './common/problem.filter.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/config.js';
import { registerBodyParsers } from './common/body-parsers.js';
import { registerConnectionLimits } from './common/connection-limits.js';
import { registerCors } from './common/cors.js';
import { MetricsService } from './metrics/metrics.service.js';
import { migrateDatabase } from './storage/storage.module.js';
import { BEARER_SCHEME } from './auth/access.js';
import { ApiKeysService } from './auth/api-keys.service.js';
import { RateLimiter } from './auth/rate-limiter.js';
import { registerRequestGuard } from './auth/request-guard.js';
import { RULE_BINARY_ROUTES, RULE_SOURCE_ROUTES } from './rules/rule-body.js';
import { STREAMED_BODY_ROUTES } from './ingest/ingest.controller.js';
import { FORWARDER_STREAMED_ROUTES } from './forwarders/forwarders.module.js';
import { PACK_EXAMPLE, SEED_RULE_EXAMPLE } from './rules/rule-examples.js';
import { DATA_MODEL_EXAMPLE, GLOBAL_HELPER_EXAMPLE } from './library/library-examples.js';
import { createJsonLogger } from './logging/json-logger.js';
import { registerRequestLogging } from './logging/request-logging.js';
import { registerConnectionDraining } from './shutdown/graceful-shutdown.js';

/** Swagger UI and the OpenAPI document (at /docs-json) are served without a key. */
const DOCS_PATH = 'docs';
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export async function createApp(
  config: AppConfig,
  options: { logger?: false } & AppStart = {},
): Promise<NestFastifyApplication> {
  // JSON lines through pino (logging/json-logger.ts); tests pass `false` for silence. Set before anything
  // logs, the migrations included.
  const logger = options.logger ?? createJsonLogger(config.logLevel);
  Logger.overrideLogger(logger);
  // The schema first, outside Nest: a database that cannot be opened stops the start with its reason
  // (main.ts prints it on one line) rather than a framework's stack trace.
  await migrateDatabase(config);
  const problems = new ProblemFilter();
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    // A client that stops sending mid-request does not hold a connection for ever.
    requestTimeout: config.limits.requestTimeoutMs,
    // Rule ids are up to 200 characters, more once percent-encoded.
    routerOptions: { maxParamLength: 1000 },
    // What Node's HTTP parser refuses (malformed, oversized headers, too slow) is a problem too.
    clientErrorHandler: answerConnectionError,
    // Errors Fastify meets before routing (bad URL encoding, over-long parameters) are problems too.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void problems.send(error, request, reply);
    },
    // A caller's own request id is kept when it is sane, so that logs on both sides line up.
    requestIdHeader: false,
    genReqId: (request: { headers: Record<string, string | string[] | undefined> }) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, { builtinPackReading: options.builtinPackReading }),
    adapter,
    {
      // Bodies are parsed by registerBodyParsers alone (see common/body-parsers.ts).
      bodyParser: false,
      logger,
      bufferLogs: false,
    },
  );
  setupApp(app, config, problems);
  await app.init();
  return app;
}

export function setupApp(
  app: NestFastifyApplication,
  config: AppConfig,
  problems = new ProblemFilter(),
): void {
  const fastify = app.getHttpAdapter().getInstance();

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    // An API answer is data, never a page to render or frame; Swagger UI under /docs is the one page.
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'no-referrer');
    void reply.header('x-frame-options', 'DENY');
    if (!request.url.startsWith('/docs'))
      void reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
    done();
  });
  registerConnectionLimits(fastify, config.limits, (reason) =>
    app.get(MetricsService).countRefusedConnection(reason),
  );
  registerRequestLogging(fastify);
  registerConnectionDraining(fastify);
  registerCors(fastify, config.corsOrigins);
  registerRequestGuard(fastify, {
    keys: app.get(ApiKeysService),
    limiter: new RateLimiter(config.auth.rateLimitPerSecond, config.auth.rateLimitBurst),
    problems,
    publicPrefixes: [`/${DOCS_PATH}`, `/${DOCS_PATH}-json`, `/${DOCS_PATH}-yaml`],
  });
  registerBodyParsers(fastify, {
    bodyLimit: config.bodyLimitBytes,
    maxJsonDepth: config.limits.maxJsonDepth,
    streamedRoutes: new Set([...STREAMED_BODY_ROUTES, ...FORWARDER_STREAMED_ROUTES]),
    textRoutes: RULE_SOURCE_ROUTES,
    binaryRoutes: RULE_BINARY_ROUTES,
  });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: '1' });
  app.useGlobalPipes(createValidationPipe());
  // Nest routes Fastify's own errors (body parsing, limits, unknown routes) through this filter too.
  app.useGlobalFilters(problems);
  // Signals are handled by main.ts (shutdown/graceful-shutdown.ts), which exits 0 once everything is closed.

  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Tripline')
      .setDescription(
        'Detection as a service: rules in Panther’s format (match expressions or condition lines), tested on upload and versioned; events in; hits and alerts out. Errors are application/problem+json with a stable `code`. Every operation but /healthz, /readyz, these docs and the forwarders’ probes (GET /, GET /services/collector/health) needs an API key: press Authorize and paste one (a new install prints its first admin key once in the log).',
      )
      .setVersion('1')
      .addTag('rules', 'Upload, version, test, import and export detection rules')
      .addTag('events', 'Send batches of log events; hits and alerts come out')
      .addTag('hits', 'Find hits by rule, severity, time and any output field')
      .addTag('alerts', 'Find and triage deduplicated alerts')
      .addTag('stats', 'Hits and alerts over time')
      .addTag('coverage', 'MITRE ATT&CK coverage of the enabled rules')
      .addTag('api-keys', 'Create, list and revoke API keys (admin)')
      .addTag('audit', 'Who changed which rule, key or alert, and when (admin)')
      .addTag('forwarders', 'Splunk HEC and Elasticsearch _bulk endpoints for log forwarders as they are')
      .addTag('health', 'Liveness and readiness')
      .addTag('metrics', 'Prometheus metrics (scrape with a read key)')
      .addBearerAuth(
        {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key (tl_…). Scopes: ingest (POST events, and the HEC and _bulk endpoints), read (queries), admin (everything). HEC clients may send `Authorization: Splunk <key>` instead.',
        },
        BEARER_SCHEME,
      )
      .build(),
    { extraModels: [ProblemDto] },
  );
  SwaggerModule.setup(DOCS_PATH, app, withServiceFaults(withRuleSourceBodies(document)), {
    jsonDocumentUrl: `${DOCS_PATH}-json`,
    customSiteTitle: 'Tripline API',
    swaggerOptions: { persistAuthorization: false, displayRequestDuration: true, tryItOutEnabled: false },
  });
  new Logger('App').verbose('configured');
}

/**
 * Any operation can fail unexpectedly (500) or meet a database that cannot take it now (503), and one that
 * writes a full disk (507): say what those answers look like once for all of them.
 */
function withServiceFaults(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    const reads = [path.get];
    const writes = [path.post, path.put, path.patch, path.delete];
    for (const operation of [...reads, ...writes]) {
      if (!operation) continue;
      for (const status of writes.includes(operation) ? [500, 503, 507] : [500, 503])
        operation.responses[String(status)] ??= problemResponse(status);
    }
  }
  return document;
}

/**
 * Operations marked with `x-rule-source-body` take rule text: YAML (edited as text in Swagger UI, with
 * the seed rule or a pack as example) or JSON. Swagger UI reads a YAML example as one document and shows
 * an error for a pack, so a pack is offered first as text/plain (read as YAML too), which it shows as written.
 */
const SOURCE_BODIES = {
  rule: { example: SEED_RULE_EXAMPLE, description: 'One rule in Panther’s format' },
  pack: {
    example: PACK_EXAMPLE,
    description:
      'A multi-document YAML stream of rules, global helpers and data models (documents separated by ---)',
  },
  global: { example: GLOBAL_HELPER_EXAMPLE, description: 'One global helper in Panther’s format' },
  datamodel: { example: DATA_MODEL_EXAMPLE, description: 'One data model in Panther’s format' },
};

function withRuleSourceBodies(document: OpenAPIObject): OpenAPIObject {
  for (const path of Object.values(document.paths)) {
    for (const operation of [path.post, path.put]) {
      const marker = (operation as unknown as Record<string, unknown> | undefined)?.['x-rule-source-body'];
      if (!operation || typeof marker !== 'string' || !(marker in SOURCE_BODIES)) continue;
      const { example, description } = SOURCE_BODIES[marker as keyof typeof SOURCE_BODIES];
      operation.requestBody = {
        required: true,
        description,
        content: {
          ...(marker === 'pack' ? { 'text/plain': { schema: { type: 'string' }, example } } : {}),
          'application/yaml': { schema: { type: 'string' }, example },
          'application/json': { schema: { type: 'object', additionalProperties: true } },
        },
      };
      delete (operation as unknown as Record<string, unknown>)['x-rule-source-body'];
    }
  }
  return document;
}
