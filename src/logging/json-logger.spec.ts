import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { createJsonLogger } from './json-logger.js';

/** A logger at `level` whose lines are kept, parsed. */
function capture(level: Parameters<typeof createJsonLogger>[0]) {
  const lines: string[] = [];
  const logger = createJsonLogger(level, { write: (line: string) => void lines.push(line) });
  return { logger, entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>), lines };
}

describe('JsonLogger', () => {
  afterEach(() => {
    Logger.overrideLogger(false);
  });

  it('writes one JSON line per entry, with Nest’s context as a field and Nest’s levels as pino’s', () => {
    const { logger, entries, lines } = capture('verbose');
    Logger.overrideLogger(logger);
    const named = new Logger('Tripline');
    named.log('listening on http://127.0.0.1:8080 (API http://127.0.0.1:8080/v1)');
    named.verbose('configured');
    named.debug('batch 1');
    named.warn('store it now: tl_0123456789ab_abc');
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(entries().map((entry) => [entry.level, entry.context, entry.msg])).toEqual([
      ['info', 'Tripline', 'listening on http://127.0.0.1:8080 (API http://127.0.0.1:8080/v1)'],
      ['trace', 'Tripline', 'configured'],
      ['debug', 'Tripline', 'batch 1'],
      ['warn', 'Tripline', 'store it now: tl_0123456789ab_abc'],
    ]);
    // What test/support/process.ts looks for in a child's output.
    expect(/listening on (http:\/\/[^\s]+) /.exec(lines[0] ?? '')?.[1]).toBe('http://127.0.0.1:8080');
    expect(entries()[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('keeps an error’s stack, and an object message’s fields', () => {
    const { logger, entries } = capture('log');
    Logger.overrideLogger(logger);
    const named = new Logger('Problem');
    named.error('GET /x failed', 'Error: boom\n    at f (x.js:1:1)');
    named.error('no stack');
    named.log({ msg: 'GET /v1/hits 200', status: 200, keyId: 'abc' });
    Logger.error('static', 'Error: boom\n    at g (y.js:2:2)');
    expect(entries()).toEqual([
      expect.objectContaining({
        level: 'error',
        context: 'Problem',
        msg: 'GET /x failed',
        stack: 'Error: boom\n    at f (x.js:1:1)',
      }),
      expect.objectContaining({ level: 'error', context: 'Problem', msg: 'no stack' }),
      expect.objectContaining({
        level: 'info',
        context: 'Problem',
        msg: 'GET /v1/hits 200',
        status: 200,
        keyId: 'abc',
      }),
      expect.objectContaining({ level: 'error', msg: 'static', stack: 'Error: boom\n    at g (y.js:2:2)' }),
    ]);
    expect(entries()[1]).not.toHaveProperty('stack');
    expect(entries()[3]).not.toHaveProperty('context');
  });

  it('writes nothing below its level', () => {
    const { logger, lines } = capture('warn');
    logger.log('routine');
    logger.debug('detail');
    logger.warn('careful', 'Ctx');
    expect(lines).toHaveLength(1);
  });

  it('writes Nest’s start-up listing of modules and routes at debug level, not among the news', () => {
    const { logger, entries } = capture('log');
    Logger.overrideLogger(logger);
    new Logger('RouterExplorer').log('Mapped {/v1/rules, POST} route');
    new Logger('InstanceLoader').log('AppModule dependencies initialized');
    new Logger('Tripline').log('listening on http://127.0.0.1:8080');
    expect(entries().map((entry) => entry.msg)).toEqual(['listening on http://127.0.0.1:8080']);
  });
});
