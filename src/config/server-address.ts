import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config';

/**
 * Where the running server listens, for the local command-line tools (`npm run token`, `seed`,
 * `client`): `npm start` writes `DATA_DIR/server.json` once it listens and removes it when it
 * stops, so a tool started without the server's PORT, HOST or BASE_URL still reaches it and
 * mints tokens for the issuer the server checks. It holds no secret.
 */
export interface ServerAddress {
  /** Where a process on this machine reaches the server. */
  url: string;
  /** The OAuth issuer (`iss`, token audience) the server checks. */
  issuer: string;
  /** The process that wrote the file (the cluster primary when there are workers). */
  pid: number;
  startedAt: string;
}

export const SERVER_ADDRESS_FILE = 'server.json';

export function serverAddressFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, SERVER_ADDRESS_FILE);
}

/** Written atomically (a reader never sees half a file). */
export function writeServerAddress(config: Pick<Config, 'dataDir'>, address: ServerAddress): void {
  const file = serverAddressFile(config);
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(address, null, 2)}\n`);
  renameSync(temporary, file);
}

/** Removes the file if this process wrote it (a newer server may have replaced it). */
export function removeServerAddress(config: Pick<Config, 'dataDir'>, pid = process.pid): void {
  const current = readServerAddressFile(config);
  if (current?.pid === pid) rmSync(serverAddressFile(config), { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readServerAddressFile(config: Pick<Config, 'dataDir'>): ServerAddress | undefined {
  try {
    const parsed = JSON.parse(readFileSync(serverAddressFile(config), 'utf8')) as Partial<ServerAddress>;
    if (typeof parsed.url !== 'string' || typeof parsed.issuer !== 'string' || typeof parsed.pid !== 'number') return undefined;
    return parsed as ServerAddress;
  } catch {
    return undefined;
  }
}

/** The address of the server started from this DATA_DIR, if its process still runs (a file left by a crash is ignored). */
export function readServerAddress(config: Pick<Config, 'dataDir'>): ServerAddress | undefined {
  const address = readServerAddressFile(config);
  return address && isAlive(address.pid) ? address : undefined;
}
