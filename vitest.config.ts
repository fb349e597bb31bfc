import { defineConfig } from 'vitest/config';

/** Suites that do not start the app on the database under test: no database, or one of their own. */
const OWN_DATABASE = [
  'test/cli.e2e-spec.ts',
  'test/conformance.e2e-spec.ts',
  'test/migrations.e2e-spec.ts',
  'test/multi-instance.e2e-spec.ts',
  'test/server-process.e2e-spec.ts',
  'test/faults.e2e-spec.ts',
  'test/shutdown.e2e-spec.ts',
];

// Every e2e suite runs twice: on SQLite (the embedded default) and on the PostgreSQL at 127.0.0.1:5432
// (a new database per app; see test/support/app.ts). Unit specs (src/**/*.spec.ts, and test/*.spec.ts for
// checks of the project as a whole, such as the Node versions of package-lock.json) run once.
export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: { name: 'sqlite', include: ['src/**/*.spec.ts', 'test/**/*.spec.ts', 'test/**/*.e2e-spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: ['test/**/*.e2e-spec.ts'],
          exclude: OWN_DATABASE,
          env: { TRIPLINE_TEST_DATABASE: 'postgres' },
        },
      },
    ],
  },
});
