// A PostgreSQL server of the test's own (initdb into a temporary folder, on a free port), so that a test
// may stop, restart and freeze it without touching the machine's shared one that other suites use.
// PostgreSQL refuses to run as root: as root, its programs run as the `postgres` user (runuser).
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const VERSIONS_DIR = '/usr/lib/postgresql';

/** The folder of PostgreSQL's server programs (initdb, pg_ctl), the newest installed. */
function binDir(): string | undefined {
  if (!existsSync(VERSIONS_DIR)) return undefined;
  const versions = readdirSync(VERSIONS_DIR)
    .filter((name) => existsSync(join(VERSIONS_DIR, name, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(VERSIONS_DIR, versions[0], 'bin');
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const found = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (found.status !== 0 || group.status !== 0) return undefined;
  return { uid: Number(found.stdout.trim()), gid: Number(group.stdout.trim()) };
}

/** Why a private server cannot be started here, or undefined when it can. */
export function privatePostgresMissing(): string | undefined {
  if (!binDir()) return `PostgreSQL's server programs are absent (${VERSIONS_DIR}/*/bin/initdb)`;
  if (process.getuid?.() === 0 && !postgresUser())
    return 'running as root without a postgres user to run initdb as';
  if (process.getuid?.() === 0 && spawnSync('runuser', ['--help']).status !== 0) return 'runuser is absent';
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export class PrivatePostgres {
  private constructor(
    readonly directory: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async create(): Promise<PrivatePostgres> {
    const bin = binDir();
    if (!bin) throw new Error(privatePostgresMissing());
    const directory = mkdtempSync(join(tmpdir(), 'tripline-pg-'));
    const user = process.getuid?.() === 0 ? postgresUser() : undefined;
    if (user) chownSync(directory, user.uid, user.gid);
    const server = new PrivatePostgres(directory, await freePort(), bin);
    await server.run('initdb', [
      '-D',
      server.dataDir,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await server.start();
    return server;
  }

  private get dataDir(): string {
    return join(this.directory, 'data');
  }

  /** Runs one of PostgreSQL's programs, as the postgres user when this process is root. */
  private async run(program: string, args: string[]): Promise<void> {
    const path = join(this.bin, program);
    const asRoot = process.getuid?.() === 0;
    await promisify(execFile)(
      asRoot ? 'runuser' : path,
      asRoot ? ['-u', 'postgres', '--', path, ...args] : args,
    );
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    await this.run('pg_ctl', [
      '-D',
      this.dataDir,
      '-o',
      options,
      '-l',
      join(this.directory, 'server.log'),
      '-w',
      'start',
    ]);
  }

  /** A fast stop: open transactions are rolled back and every client is disconnected. */
  async stop(): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }

  /** Every process of the server: the postmaster and its children. */
  private pids(): number[] {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .filter((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          // The parent pid is the second field after the command name, which is in parentheses.
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
        } catch {
          return false;
        }
      })
      .map(Number);
    return [postmaster, ...children];
  }

  private frozen = false;

  /** SIGSTOP to every process: the server holds its connections and answers nothing, as a hung host would. */
  freeze(): void {
    this.signal('SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    this.signal('SIGCONT');
    this.frozen = false;
  }

  private signal(signal: NodeJS.Signals): void {
    for (const pid of this.pids()) {
      try {
        process.kill(pid, signal);
      } catch (error) {
        // A backend that ended between the listing and the signal needs none.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }

  /** Stops the server (thawed first, if frozen) and removes its files. */
  async remove(): Promise<void> {
    try {
      if (existsSync(join(this.dataDir, 'postmaster.pid'))) {
        if (this.frozen) this.thaw();
        await this.stop();
      }
    } finally {
      rmSync(this.directory, { recursive: true, force: true });
    }
  }
}
