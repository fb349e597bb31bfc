// Nest's logger as JSON lines through pino: one line per entry on stdout, with Nest's context (the class
// or area that logs) as a field. Nest's levels map onto pino's: log is info, verbose is trace.
import type { LoggerService, LogLevel } from '@nestjs/common';
import { pino, type DestinationStream, type Level, type Logger as PinoLogger } from 'pino';

export const PINO_LEVELS: Record<LogLevel, Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Fields of an entry, when a message is an object rather than text (see logging/request-logging.ts). */
export type LogFields = Record<string, unknown> & { msg?: string };

/**
 * A logger writing to `destination` (default: stdout, synchronously, so that nothing is lost when the
 * process exits right after a line).
 */
export function createJsonLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ dest: 1, sync: true }),
): JsonLogger {
  return new JsonLogger(
    pino(
      {
        level: PINO_LEVELS[level],
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
      },
      destination,
    ),
  );
}

export class JsonLogger implements LoggerService {
  constructor(private readonly pino: PinoLogger) {}

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  log(message: unknown, ...params: unknown[]): void {
    // Nest lists every module and route it sets up at start; that is detail, not news.
    const context = params.at(-1);
    this.write(
      typeof context === 'string' && STARTUP_DETAIL.has(context) ? 'debug' : 'info',
      message,
      params,
    );
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const { context, stack, details } = splitParams(level, params);
    const fields: Record<string, unknown> = {};
    if (context !== undefined) fields.context = context;
    let text: string;
    if (message instanceof Error) {
      fields.err = message;
      text = message.message;
    } else if (typeof message === 'object' && message !== null && !Array.isArray(message)) {
      const { msg, ...rest } = message as LogFields;
      Object.assign(fields, rest);
      text = msg ?? '';
    } else {
      text = String(message);
    }
    if (stack !== undefined) fields.stack = stack;
    if (details.length > 0) fields.details = details;
    this.pino[level](fields, text);
  }
}

const STACK_TRACE = /\n\s+at /;

/** Nest's contexts that log one line per module or route at start: written at debug level. */
const STARTUP_DETAIL = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer']);

/**
 * Nest passes the context last (a logger made with `new Logger('Name')` always adds it), and for errors a
 * stack trace (or undefined) before it; anything else is kept as details.
 */
function splitParams(
  level: Level,
  params: readonly unknown[],
): { context?: string; stack?: string; details: unknown[] } {
  const rest = [...params];
  let context: string | undefined;
  const last = rest.at(-1);
  const isError = level === 'error' || level === 'fatal';
  if (typeof last === 'string' && !(isError && rest.length === 1 && STACK_TRACE.test(last))) {
    context = last;
    rest.pop();
  }
  let stack: string | undefined;
  if (isError && rest.length > 0 && (rest[0] === undefined || typeof rest[0] === 'string')) {
    stack = rest.shift() as string | undefined;
  }
  return { context, stack, details: rest };
}
