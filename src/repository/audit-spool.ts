import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { insertAuditRows, type AuditRow } from './audit-events';
import type { Db } from './db';

/**
 * The audit table's stand-in on local disk, for when PostgreSQL cannot be reached: the
 * AuditEvents of refused requests are appended here, flushed to disk (fdatasync) before the
 * request answers, and moved into `audit_event` once the database is back. A line per event,
 * in the audit row's own shape (id and time already set), so moving it is one INSERT and the
 * event keeps the id and time it was refused with.
 *
 * Files: `<dir>/<pid>-<start>-<n>.jsonl`, appended by one process only. A process moves its own
 * files (closing the one it appends to first) and those of processes that are gone; a file is
 * claimed by renaming it, and moving is idempotent (an event already in the audit table
 * is skipped), so a crash mid-move only repeats the move.
 */
export interface AuditSpool {
  readonly dir: string;
  /** Appends the events and flushes them to disk; resolves once they are durable. */
  append(events: AuditRow[]): Promise<void>;
  /** Moves every movable spooled event into the audit table; returns how many were moved. Throws while the database is unavailable. */
  moveInto(db: Db): Promise<number>;
  /** Whether any spool file exists (cheap; a directory listing). */
  hasPending(): Promise<boolean>;
  close(): Promise<void>;
}

/** A spool beyond this many bytes per process refuses more (the disk must not fill during a long outage). */
const MAX_SPOOL_BYTES = 256 * 1024 * 1024;
/** A claimed (renamed) file older than this was left by a process that died moving it. */
const STALE_CLAIM_MS = 60_000;

/** An audit row as JSON (its time as text). */
type SpoolLine = Omit<AuditRow, 'recorded'> & { recorded: string };

/** The spool directory of one database: several test databases or deployments may share a DATA_DIR. */
export function auditSpoolDir(dataDir: string, databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.password = '';
  u.username = '';
  const key = createHash('sha256').update(`${u.host}${u.pathname}`).digest('hex').slice(0, 16);
  return path.join(dataDir, 'audit-spool', key);
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function openAuditSpool(dir: string): AuditSpool {
  const prefix = `${process.pid}-${Date.now().toString(36)}`;
  let serial = 0;
  let current: { name: string; handle: fs.FileHandle } | undefined;
  let written = 0;
  /** Appends and file switches run one at a time. */
  let chain: Promise<unknown> = Promise.resolve();
  const serialize = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  async function syncDir(): Promise<void> {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }

  async function rotate(): Promise<void> {
    if (!current) return;
    const closing = current;
    current = undefined;
    await closing.handle.close();
  }

  async function claim(name: string): Promise<string | undefined> {
    const claimed = path.join(dir, `${name}.moving-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.rename(path.join(dir, name), claimed);
      return claimed;
    } catch {
      return undefined; // another process took it
    }
  }

  async function movable(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const name of names) {
      const moving = /\.moving-(\d+)-/.exec(name);
      if (moving) {
        // Claimed by a process that died (or stalled) while moving it.
        const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
        if (stat && (!isAlive(Number(moving[1])) || Date.now() - stat.mtimeMs > STALE_CLAIM_MS)) out.push(name);
        continue;
      }
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      if (name.endsWith('.jsonl') && (pid === process.pid || !isAlive(pid))) out.push(name);
    }
    return out;
  }

  async function insert(db: Db, lines: SpoolLine[]): Promise<number> {
    // Skips events already moved (a crash between the insert's commit and the file's removal).
    return insertAuditRows(db, lines.map((l) => ({ ...l, recorded: new Date(l.recorded) })), { waitForFlush: true, skipExisting: true });
  }

  return {
    dir,
    append(events) {
      if (events.length === 0) return Promise.resolve();
      const text = events.map((e) => JSON.stringify({ ...e, recorded: e.recorded.toISOString() } satisfies SpoolLine)).join('\n') + '\n';
      return serialize(async () => {
        if (written + text.length > MAX_SPOOL_BYTES) throw new Error(`the audit spool in ${dir} is full (${MAX_SPOOL_BYTES} bytes)`);
        if (!current) {
          await fs.mkdir(dir, { recursive: true, mode: 0o700 });
          const name = `${prefix}-${serial++}.jsonl`;
          current = { name, handle: await fs.open(path.join(dir, name), 'a', 0o600) };
          // The new file's directory entry must survive a power loss as well as its contents.
          await syncDir();
        }
        await current.handle.appendFile(text, 'utf8');
        await current.handle.datasync();
        written += text.length;
      });
    },
    async moveInto(db) {
      // Our own open file is closed first, so that nothing is appended to a file being moved.
      await serialize(rotate);
      let moved = 0;
      for (const name of await movable()) {
        const claimed = await claim(name);
        if (!claimed) continue;
        const text = await fs.readFile(claimed, 'utf8');
        const lines: SpoolLine[] = [];
        for (const line of text.split('\n')) {
          if (!line) continue;
          try {
            lines.push(JSON.parse(line) as SpoolLine);
          } catch {
            /* a line torn by a crash mid-append: that request got no answer either */
          }
        }
        try {
          for (let i = 0; i < lines.length; i += 500) moved += await insert(db, lines.slice(i, i + 500));
        } catch (err) {
          // Still unavailable: the file goes back under a name any process may move later.
          await fs.rename(claimed, path.join(dir, `${name.replace(/\.moving-.*$/, '')}`)).catch(() => undefined);
          throw err;
        }
        await fs.unlink(claimed);
        written = Math.max(0, written - text.length);
      }
      return moved;
    },
    async hasPending() {
      try {
        return (await fs.readdir(dir)).length > 0;
      } catch {
        return false;
      }
    },
    close: () => serialize(rotate),
  };
}
