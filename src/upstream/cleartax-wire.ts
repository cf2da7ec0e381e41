import { z } from 'zod';
import type { ActivityKey, StatusSnapshot, UpstreamErrorBody } from '../domain/index.js';

/**
 * ClearTax's wire format for "Get upload status" and its mapping to the domain.
 * Lenient where upstream may vary (unknown fields, a missing or null
 * `queuedCount`, an undocumented status string), strict where a value would be
 * meaningless.
 */
const statusBody = z.object({
  status: z.string().min(1),
  errorMessage: z.string().nullish(),
  queuedCount: z.number().int().nonnegative().nullish(),
});

/** `{"errors": {"err_1": {"code": "404", "message": "...", ...}}}` */
const errorBody = z.object({
  errors: z.record(
    z.string(),
    z.object({
      code: z.union([z.string(), z.number()]).nullish(),
      message: z.string().nullish(),
    }),
  ),
});

export type ParsedStatus = { ok: true; snapshot: StatusSnapshot } | { ok: false; reason: string };

/** A 200 body as a snapshot of `key`, read now; or why it could not be read. */
export function parseStatusBody(text: string, key: ActivityKey): ParsedStatus {
  const json = parseJson(text);
  const parsed = statusBody.safeParse(json);
  if (!parsed.success) {
    if (json === undefined) return { ok: false, reason: 'a body that is not JSON' };
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'body';
    return { ok: false, reason: `an unreadable body (${where}: ${issue?.message ?? 'invalid'})` };
  }
  return {
    ok: true,
    snapshot: {
      taxableEntityId: key.taxableEntityId,
      activityId: key.activityId,
      rawStatus: parsed.data.status,
      errorMessage: parsed.data.errorMessage ?? null,
      queuedCount: parsed.data.queuedCount ?? null,
      fetchedAt: new Date().toISOString(),
    },
  };
}

/**
 * The first `errors.*` entry of an error body, with the HTTP status; nulls where
 * upstream said nothing readable. Code and message are cut to `maxLength`
 * characters: they reach clients and logs, and upstream's size is not ours to trust.
 */
export function parseErrorBody(httpStatus: number, text: string, maxLength = 500): UpstreamErrorBody {
  const parsed = errorBody.safeParse(parseJson(text));
  const first = parsed.success ? Object.values(parsed.data.errors)[0] : undefined;
  return {
    httpStatus,
    code: first?.code === undefined || first.code === null ? null : cut(String(first.code), 64),
    message: first?.message == null ? null : cut(first.message, maxLength),
  };
}

function cut(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength)}…`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Retry-After is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
