import type { Config } from '../config/config';

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
