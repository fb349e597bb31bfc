import { availableParallelism, tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('has defaults for a first start', () => {
    const rules = tmpdir();
    const config = loadConfig({}, { builtinRulesDir: rules });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      logLevel: 'log',
      builtinRulesDir: rules,
    });
    expect(config.database).toMatchObject({ kind: 'sqlite' });
    expect(config.database.kind === 'sqlite' && config.database.path.endsWith('data/tripline.sqlite')).toBe(
      true,
    );
    // Evaluation threads: one core is left to the thread that serves requests; at most four.
    expect(config.ingest.evaluationThreads).toBe(Math.min(4, availableParallelism() - 1));
    expect(config.ingest.evaluationThreadMinBytes).toBe(256 * 1024);
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '9000',
      HOST: '0.0.0.0',
      DATABASE_URL: 'sqlite:/tmp/x.sqlite',
      BODY_LIMIT_BYTES: '2048',
      LOG_LEVEL: 'debug',
      TRIPLINE_BUILTIN_RULES: '',
      REQUEST_TIMEOUT_MS: '5000',
      MAX_JSON_DEPTH: '10',
      INGEST_MAX_EVENT_CHARS: '4096',
      RULE_MAX_CHARS: '2048',
      RULE_PACK_MAX_CHARS: '8192',
      TRIPLINE_ADMIN_KEY: 'k'.repeat(32),
      RATE_LIMIT_PER_SECOND: '5',
      RATE_LIMIT_BURST: '10',
      CORS_ORIGINS: 'https://console.example.com, http://localhost:3000',
      SHUTDOWN_TIMEOUT_MS: '5000',
      SQLITE_BUSY_TIMEOUT_MS: '250',
      MAX_CONNECTIONS: '300',
      MAX_CONNECTIONS_PER_ADDRESS: '30',
      HEC_SOURCETYPES: 'aws:cloudtrail=AWS.CloudTrail, okta:im=Okta.SystemLog',
      BULK_INDICES: 'cloudtrail*=AWS.CloudTrail,okta=Okta.SystemLog',
      EVALUATION_THREADS: '3',
      EVALUATION_THREAD_MIN_BYTES: '65536',
      TRIPLINE_PYTHON: '/usr/local/bin/python3',
      TRIPLINE_BWRAP: '/usr/local/bin/bwrap',
      PYTHON_WORKER_MEMORY_MB: '512',
      PYTHON_CALL_SECONDS: '3',
      PYTHON_REQUEST_DEADLINE_MS: '9000',
      PYTHON_WORKERS: '2',
    });
    expect(config).toEqual({
      port: 9000,
      host: '0.0.0.0',
      database: { kind: 'sqlite', path: '/tmp/x.sqlite', busyTimeoutMs: 250 },
      bodyLimitBytes: 2048,
      ingest: {
        maxDecompressedBytes: 128 * 1024 * 1024,
        maxEvents: 100_000,
        evaluationThreads: 3,
        evaluationThreadMinBytes: 65536,
      },
      limits: {
        requestTimeoutMs: 5000,
        maxConnections: 300,
        maxConnectionsPerAddress: 30,
        maxJsonDepth: 10,
        maxEventChars: 4096,
        maxRuleChars: 2048,
        maxPackChars: 8192,
      },
      auth: { adminKey: 'k'.repeat(32), rateLimitPerSecond: 5, rateLimitBurst: 10 },
      forwarders: {
        hecSourcetypes: new Map([
          ['aws:cloudtrail', 'AWS.CloudTrail'],
          ['okta:im', 'Okta.SystemLog'],
        ]),
        bulkIndices: [
          { pattern: 'cloudtrail*', logType: 'AWS.CloudTrail' },
          { pattern: 'okta', logType: 'Okta.SystemLog' },
        ],
      },
      python: {
        interpreter: '/usr/local/bin/python3',
        bwrap: '/usr/local/bin/bwrap',
        workerMemoryMb: 512,
        callSeconds: 3,
        requestDeadlineMs: 9000,
        workers: 2,
      },
      corsOrigins: ['https://console.example.com', 'http://localhost:3000'],
      logLevel: 'debug',
      builtinRulesDir: undefined,
      shutdownTimeoutMs: 5000,
    });
    expect(loadConfig({ DATABASE_URL: 'file:/tmp/y.db' }).database).toEqual({
      kind: 'sqlite',
      path: '/tmp/y.db',
      busyTimeoutMs: 5000,
    });
  });

  it('maps HEC sourcetypes and bulk indices to log types, CloudTrail by default, or to none', () => {
    const defaults = loadConfig({}).forwarders;
    expect([...defaults.hecSourcetypes]).toEqual([['aws:cloudtrail', 'AWS.CloudTrail']]);
    expect(defaults.bulkIndices).toEqual([{ pattern: 'cloudtrail*', logType: 'AWS.CloudTrail' }]);
    const none = loadConfig({ HEC_SOURCETYPES: '', BULK_INDICES: ' ' }).forwarders;
    expect(none.hecSourcetypes.size).toBe(0);
    expect(none.bulkIndices).toEqual([]);
    expect(problems({ HEC_SOURCETYPES: 'aws:cloudtrail' })).toEqual([
      'HEC_SOURCETYPES: "aws:cloudtrail" is not name=LogType like aws:cloudtrail=AWS.CloudTrail',
    ]);
    expect(problems({ HEC_SOURCETYPES: 'x=not a log type' })[0]).toMatch(/^HEC_SOURCETYPES:/);
    expect(problems({ BULK_INDICES: 'CloudTrail*=AWS.CloudTrail' })[0]).toMatch(/^BULK_INDICES:/);
    expect(problems({ BULK_INDICES: 'a*b=AWS.CloudTrail' })[0]).toMatch(/^BULK_INDICES:/);
    expect(problems({ BULK_INDICES: '=AWS.CloudTrail' })[0]).toMatch(/^BULK_INDICES:/);
  });

  it('takes a PostgreSQL URL with its pool size, refresh interval and timeouts', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://tripline@db.internal:5432/tripline' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://tripline@db.internal:5432/tripline',
      poolSize: 10,
      rulesRefreshMs: 2000,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30_000,
      lockTimeoutMs: 20_000,
    });
    expect(
      loadConfig({
        DATABASE_URL: 'postgresql://h/db',
        DATABASE_POOL_SIZE: '25',
        RULES_REFRESH_MS: '500',
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        DATABASE_STATEMENT_TIMEOUT_MS: '4000',
        DATABASE_LOCK_TIMEOUT_MS: '3000',
      }).database,
    ).toMatchObject({
      poolSize: 25,
      rulesRefreshMs: 500,
      connectTimeoutMs: 1000,
      statementTimeoutMs: 4000,
      lockTimeoutMs: 3000,
    });
    expect(
      problems({
        DATABASE_URL: 'postgres://h/db',
        DATABASE_STATEMENT_TIMEOUT_MS: '1000',
        DATABASE_LOCK_TIMEOUT_MS: '2000',
      }),
    ).toEqual(['DATABASE_LOCK_TIMEOUT_MS: must not be longer than DATABASE_STATEMENT_TIMEOUT_MS']);
  });

  it('names every bad setting and why, all at once', () => {
    expect(problems({ PORT: 'abc', LOG_LEVEL: 'loud', BODY_LIMIT_BYTES: '-1' })).toEqual([
      'PORT: must be a whole number from 0 to 65535, got "abc"',
      'BODY_LIMIT_BYTES: must be a whole number from 1024 to 1073741824, got "-1"',
      'LOG_LEVEL: must be one of fatal, error, warn, log, debug, verbose, got "loud"',
    ]);
    expect(problems({ PORT: '70000' })[0]).toMatch(/^PORT:/);
    expect(problems({ HOST: 'bad host!' })[0]).toMatch(/^HOST:/);
    expect(problems({ DATABASE_URL: 'mysql://x' })[0]).toMatch(/^DATABASE_URL:/);
    expect(problems({ TRIPLINE_ADMIN_KEY: 'short' })[0]).toMatch(/^TRIPLINE_ADMIN_KEY: must be 32 to 512/);
    expect(problems({ TRIPLINE_ADMIN_KEY: `${'k'.repeat(32)} x` })[0]).toMatch(/^TRIPLINE_ADMIN_KEY:/);
    expect(problems({ CORS_ORIGINS: '*' })[0]).toMatch(/^CORS_ORIGINS: "\*" is not an origin/);
    expect(problems({ CORS_ORIGINS: 'https://a.example/' })[0]).toMatch(/^CORS_ORIGINS:/);
    expect(problems({ CORS_ORIGINS: 'https://*.example.com' })[0]).toMatch(/^CORS_ORIGINS:/);
    expect(problems({ TRIPLINE_ADMIN_KEY: 'k'.repeat(513) })[0]).toMatch(
      /^TRIPLINE_ADMIN_KEY: must be 32 to 512/,
    );
    expect(problems({ RATE_LIMIT_BURST: '0' })[0]).toMatch(/^RATE_LIMIT_BURST:/);
    expect(problems({ MAX_JSON_DEPTH: '1' })[0]).toMatch(/^MAX_JSON_DEPTH:/);
    expect(problems({ EVALUATION_THREADS: '65' })[0]).toMatch(
      /^EVALUATION_THREADS: must be a whole number from 0 to 64/,
    );
    expect(problems({ EVALUATION_THREAD_MIN_BYTES: '-1' })[0]).toMatch(/^EVALUATION_THREAD_MIN_BYTES:/);
    expect(problems({ DATABASE_URL: 'postgres://localhost/tripline', DATABASE_POOL_SIZE: '0' })[0]).toMatch(
      /^DATABASE_POOL_SIZE:/,
    );
  });
});
