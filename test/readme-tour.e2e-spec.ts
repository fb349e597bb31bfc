// The README's five-minute tour, run as a new user would run it: its shell blocks, in order, with bash and
// curl against a real server, the key and the address exported as the tour says. A tour that no longer
// works fails here, not in a newcomer's terminal.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDatabase, startApp, TEST_ADMIN_KEY, TEST_DATABASE, type RunningApp } from './support/app.js';
import { EventDecoder } from '../src/ingest/event-decoder.js';
import { REPO_ROOT } from './support/shared.js';
import { systemToolSuiteTitle } from './support/system-tools.js';

/** The shell blocks of the README's tour, but the one that starts the server (the test starts its own). */
function tourCommands(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Five-minute tour');
  const end = readme.indexOf('\n## ', start + 1);
  const tour = readme.slice(start, end);
  return [...tour.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1] as string)
    .filter((block) => !block.includes('npm start'));
}

const CURL_MISSING = spawnSync('curl', ['--version']).status === 0 ? undefined : 'curl is absent';

describe.skipIf(CURL_MISSING !== undefined)(
  systemToolSuiteTitle(`the README's tour (${TEST_DATABASE})`, CURL_MISSING),
  () => {
    let running: RunningApp;

    beforeAll(async () => {
      running = await startApp();
    });

    afterAll(async () => {
      await running.close();
      await removeDatabase(running);
    });

    it('runs end to end: a rule uploaded, a batch sent, the hit found, its alert acknowledged', async () => {
      const commands = tourCommands();
      expect(commands.length).toBeGreaterThanOrEqual(5);
      // The address the tour exports is this test server's.
      const script = commands.join('\n').replace('BASE=http://127.0.0.1:8080', `BASE=${running.url}`);
      // Not spawnSync: the server answering the tour's requests runs in this process.
      const result = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', script], {
        encoding: 'utf8',
        env: { ...process.env, TRIPLINE_ADMIN_KEY: TEST_ADMIN_KEY },
      });
      expect(result.stderr).toBe('');
      // curl prints each answer as it comes, without a newline: concatenated JSON, as ingest reads it.
      const decoder = new EventDecoder('json');
      const answers = [...decoder.write(result.stdout), ...decoder.end()].map(
        (item) => ('event' in item ? item.event : item) as Record<string, any>,
      );
      const [created, batch, byRule, byAddress, acknowledged, extra] = answers;
      expect(created).toMatchObject({ action: 'created', rule: { ruleId: 'Tour.RootLogin' } });
      expect(batch).toMatchObject({ received: 2, accepted: 2, hits: 1, alerts: 1, warnings: [] });
      expect(byRule?.items).toHaveLength(1);
      expect(byRule?.items[0]).toMatchObject({ title: 'Root login from 198.51.100.7' });
      expect(byAddress?.items.map((hit: { id: number }) => hit.id)).toEqual([byRule?.items[0].id]);
      expect(acknowledged).toMatchObject({ status: 'acknowledged', ruleId: 'Tour.RootLogin' });
      expect(extra).toBeUndefined();
    });
  },
);
