import type { Config } from '../config/config';
import { readServerAddress } from '../config/server-address';

/**
 * The server's OAuth issuer: `AUTH_ISSUER`, else `BASE_URL`, else the local
 * listening URL. The server and `npm run token` both use this, so they agree.
 */
export function issuerFromConfig(config: Config): string {
  if (config.authIssuer) return config.authIssuer;
  if (config.baseUrl) return config.baseUrl;
  return localUrlFromConfig(config);
}

/** Where a process on this machine reaches the server. */
export function localUrlFromConfig(config: Config): string {
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

export const TOKEN_PATH = '/auth/token';
export const JWKS_PATH = '/.well-known/jwks.json';
export const SMART_CONFIGURATION_PATH = '/.well-known/smart-configuration';

/**
 * Where the local command-line tools find the server and which issuer it checks: the address the
 * running server wrote into DATA_DIR (`server.json`, see config/server-address.ts), else this
 * process's own configuration (PORT, HOST, BASE_URL, AUTH_ISSUER).
 */
export function locateServer(config: Config): { url: string; issuer: string; from: 'server.json' | 'configuration' } {
  const written = readServerAddress(config);
  if (written) return { url: written.url, issuer: written.issuer, from: 'server.json' };
  return { url: localUrlFromConfig(config), issuer: issuerFromConfig(config), from: 'configuration' };
}
