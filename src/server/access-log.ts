import type { Logger } from 'pino';
import { errorCodeOf } from '../errors.js';

export type Transport = 'http' | 'ws' | 'multipart' | 'sse';

/**
 * What one operation did, filled in as it goes by whichever transport runs it, and
 * written as one access-log line when it ends. Never holds a token, a JWT or the
 * variables: only their count of activity ids.
 */
export class OperationRecord {
  readonly startedAt = performance.now();
  operationName: string | null = null;
  operationType: string | null = null;
  callerId: string | undefined;
  ids = 0;
  /** Set once the operation reached GraphQL (a document was read), as opposed to a bare page load. */
  isOperation = false;
  private readonly codes = new Set<string>();

  constructor(
    readonly requestId: string,
    public transport: Transport,
  ) {}

  /** Notes the codes the client sees for these errors. */
  failed(errors: readonly unknown[]): void {
    for (const error of errors) this.codes.add(errorCodeOf(error));
  }

  /** Notes one code directly (errors answered outside GraphQL, e.g. a malformed body). */
  failedWith(code: string): void {
    this.codes.add(code);
  }

  /** `ok`, or the codes the client saw, sorted and comma-separated. */
  get outcome(): string {
    return this.codes.size === 0 ? 'ok' : [...this.codes].sort().join(',');
  }
}

export interface AccessLog {
  /** Writes the record's line (no-op with ACCESS_LOG=false). Call once per operation. */
  write(record: OperationRecord): void;
}

/** The access log (contract, Transport): one `info` line per completed HTTP operation and per ended subscription. */
export function createAccessLog(options: { logger: Logger; enabled: boolean }): AccessLog {
  const { logger, enabled } = options;
  return {
    write(record) {
      if (!enabled) return;
      logger.info(
        {
          access: true,
          requestId: record.requestId,
          transport: record.transport,
          operationName: record.operationName,
          operationType: record.operationType,
          callerId: record.callerId,
          ids: record.ids,
          durationMs: Math.round((performance.now() - record.startedAt) * 10) / 10,
          outcome: record.outcome,
        },
        'operation',
      );
    },
  };
}
