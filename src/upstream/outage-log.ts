import type { Logger } from 'pino';

export interface OutageLogOptions {
  logger: Logger;
  /** At most one "still unreachable" summary line per this long, while an outage lasts. @default 10000 */
  summaryIntervalMs?: number;
}

export interface OutageLog {
  /** An attempt failed in a way that says upstream is in trouble (5xx, 429, timeout, network). */
  failed(result: string): void;
  /** Upstream answered (any status that is not trouble). */
  answered(): void;
  /** Whether reads are failing now: the last attempt was trouble, no later one answered, and it is more recent than `withinMs`. */
  isFailing(withinMs: number): boolean;
}

/**
 * Logs upstream's reachability as state changes, not per failed request: one
 * line when it becomes unreachable, at most one summary line (with counts) per
 * interval while that lasts, and one when it recovers. An outage with hundreds of
 * polls a second writes a handful of lines.
 */
export function createOutageLog(options: OutageLogOptions): OutageLog {
  const { logger } = options;
  const summaryIntervalMs = options.summaryIntervalMs ?? 10_000;
  let downSince: number | undefined;
  let lastSummaryAt = 0;
  let failures = 0;
  let lastFailureAt = 0;
  let byResult: Record<string, number> = {};

  return {
    failed(result) {
      const now = Date.now();
      lastFailureAt = now;
      failures += 1;
      byResult[result] = (byResult[result] ?? 0) + 1;
      if (downSince === undefined) {
        downSince = now;
        lastSummaryAt = now;
        logger.warn({ result }, 'upstream became unreachable');
        return;
      }
      if (now - lastSummaryAt >= summaryIntervalMs) {
        lastSummaryAt = now;
        logger.warn({ failures, byResult, downForMs: now - downSince }, 'upstream still unreachable');
      }
    },
    answered() {
      if (downSince === undefined) return;
      logger.info({ failures, byResult, downForMs: Date.now() - downSince }, 'upstream recovered');
      downSince = undefined;
      failures = 0;
      byResult = {};
    },
    isFailing(withinMs) {
      return downSince !== undefined && Date.now() - lastFailureAt <= withinMs;
    },
  };
}
