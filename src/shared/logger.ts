import pino, { Logger } from 'pino';

/**
 * Structured logs. Health data and credentials never belong in a log line, so the
 * paths that could carry them are redacted even if a caller logs them by mistake.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'opennhis' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'authorization',
        'token',
        'access_token',
        'client_assertion',
        'body',
        'resource',
        '*.body',
        '*.resource',
      ],
      censor: '[redacted]',
    },
  }, destination);
}

export type { Logger };
