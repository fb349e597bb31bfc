// Programs from Debian's packages that some suites drive (a browser, a log forwarder). .ci/run installs
// them; where one is absent the suite is skipped with a title that says so, never passed in silence.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const SYSLOG_NG = '/usr/sbin/syslog-ng';

/** Why Chromium cannot be used here, or undefined when it can. */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is absent (apt-get install chromium)`;
}

/** Why syslog-ng with its http() destination cannot be used here, or undefined when it can. */
export function syslogNgMissing(): string | undefined {
  if (!existsSync(SYSLOG_NG))
    return `${SYSLOG_NG} is absent (apt-get install syslog-ng-core syslog-ng-mod-http)`;
  // The http() destination is a module of its own package; --version lists the modules it can load.
  const version = spawnSync(SYSLOG_NG, ['--version'], { encoding: 'utf8' }).stdout;
  const modules = /^Available-Modules: (.*)$/m.exec(version)?.[1]?.split(',') ?? [];
  return modules.includes('http')
    ? undefined
    : `syslog-ng has no http module (apt-get install syslog-ng-mod-http)`;
}

/** Why a tmpfs cannot be mounted here (root, in a namespace that allows it), or undefined; tried once. */
export function tmpfsMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const probe = mkdtempSync(join(tmpdir(), 'tripline-mount-'));
  try {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], {
      encoding: 'utf8',
    });
    if (mounted.status !== 0)
      return `mount -t tmpfs failed: ${(mounted.stderr || mounted.error?.message || '').trim()}`;
    spawnSync('umount', [probe]);
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** The suite's title, or the title and why it is skipped, so that a skip is never mistaken for a pass. */
export function systemToolSuiteTitle(title: string, missing: string | undefined): string {
  return missing === undefined ? title : `${title} — SKIPPED: ${missing}; .ci/run installs it`;
}

/** Debian's Chromium, headless, for the browser suites. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root (CI) Chromium refuses to start sandboxed; the rest keeps it off this machine's closed network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
