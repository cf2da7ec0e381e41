import { pino, type DestinationStream, type Logger } from 'pino';
import { currentRequestScope } from './request-scope.js';

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
    // Every line written while a request's work runs carries its id.
    mixin: () => {
      const scope = currentRequestScope();
      return scope ? { requestId: scope.requestId } : {};
    },
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
