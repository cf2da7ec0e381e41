import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger (pino: structured JSON, cheap when a level is off). Token
 * headers and connection params are redacted wherever they might appear, as a
 * second line of defence: no code path logs them on purpose.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'upload-status-gateway' },
    redact: {
      paths: [
        'token',
        '*.token',
        'authToken',
        '*.authToken',
        'headers["x-cleartax-auth-token"]',
        '*.headers["x-cleartax-auth-token"]',
        'connectionParams',
        '*.connectionParams',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
