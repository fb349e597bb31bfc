// Starts the service: configuration from the environment (a bad value stops here, saying which and why),
// SQLite by default, migrations and the built-in rule pack at start. The pack's files are parsed in a
// worker thread from the start, while the application's modules load: those are imported only after.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { startBuiltinPackReading } from './rules/builtin-pack.reading.js';

/** rules/ at the repository root, found from this file whether it runs from src/ or dist/src/. */
function defaultRulesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.includes(join('dist', 'src')) ? join(here, '..', '..') : join(here, '..');
  return join(root, 'rules');
}

async function bootstrap(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env, { builtinRulesDir: defaultRulesDir() });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tripline: ${error.message}\n`);
    process.exit(1);
  }
  const builtinPackReading =
    config.builtinRulesDir === undefined ? undefined : startBuiltinPackReading(config.builtinRulesDir);
  const { Logger } = await import('@nestjs/common');
  const { createApp } = await import('./app.setup.js');
  const { ApiKeysService } = await import('./auth/api-keys.service.js');
  const { closeOnSignals } = await import('./shutdown/graceful-shutdown.js');
  const { ensureDatabaseLocation } = await import('./storage/data-source.js');
  let app: Awaited<ReturnType<typeof createApp>>;
  try {
    ensureDatabaseLocation(config);
    app = await createApp(config, { builtinPackReading });
    await app.listen(config.port, config.host);
    // Only now that it listens: a start that failed never made a key it could not show.
    await app.get(ApiKeysService).issueFirstKeyIfNone();
  } catch (error) {
    // Opening the database or the port failed: say so plainly and stop, rather than hang or dump a trace.
    const reason = error instanceof Error ? error.message : String(error);
    const where =
      config.database.kind === 'sqlite'
        ? `database ${config.database.path}`
        : `database ${describePostgres(config.database.url)}`;
    process.stderr.write(`tripline: cannot start (${where}, ${config.host}:${config.port}): ${reason}\n`);
    process.exit(1);
  }
  // Before saying it listens, so that whoever waits for that line may stop it right away.
  closeOnSignals(app, config.shutdownTimeoutMs);
  const logger = new Logger('Tripline');
  const url = await app.getUrl();
  logger.log(`listening on ${url} (API ${url}/v1, Swagger UI ${url}/docs)`);
}

/** host:port/database of a PostgreSQL URL, without its credentials. */
function describePostgres(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}

void bootstrap();
