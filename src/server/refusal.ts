import type { GraphQLError } from 'graphql';

/** A refusal before execution: the errors to answer, and the HTTP status and headers to answer them with. */
export interface Refused {
  readonly refused: readonly GraphQLError[];
  /** @default the first error's `extensions.http.status`, else 400 */
  readonly status?: number | undefined;
  /** @default the first error's `extensions.http.headers` */
  readonly headers?: ReadonlyMap<string, string> | undefined;
}

export function isRefused(value: object): value is Refused {
  return 'refused' in value;
}

/** The HTTP status a refusal answers with: its first error's, else 400. */
export function statusOf(refused: Refused): number {
  const http = refused.refused[0]?.extensions.http as { status?: number } | undefined;
  return refused.status ?? http?.status ?? 400;
}

/** The headers a refusal answers with (e.g. `retry-after`). */
export function headersOf(refused: Refused): ReadonlyMap<string, string> {
  const http = refused.refused[0]?.extensions.http as { headers?: Map<string, string> } | undefined;
  return refused.headers ?? http?.headers ?? new Map();
}

/** A refusal as a client may see it: its errors masked, its status and headers kept from before the masking. */
export function maskedRefusal(refused: Refused, mask: (errors: readonly GraphQLError[]) => GraphQLError[]): Refused {
  return { refused: mask(refused.refused), status: statusOf(refused), headers: headersOf(refused) };
}
