/** The `extensions.code` values of the API contract, plus the generic fallback. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  RATE_LIMITED = 'RATE_LIMITED',
  /** The JWT key source (JWKS) cannot be reached and the key is not cached: the server's trouble, retry later. */
  AUTH_UNAVAILABLE = 'AUTH_UNAVAILABLE',
  UPSTREAM_UNAVAILABLE = 'UPSTREAM_UNAVAILABLE',
  UPSTREAM_BAD_RESPONSE = 'UPSTREAM_BAD_RESPONSE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** What upstream said in an error answer (`errors.err_1`): the contract's `extensions.upstream`. */
export interface UpstreamErrorBody {
  httpStatus: number;
  code: string | null;
  message: string | null;
}

/** Codes after which asking again cannot help (the subscription ends with the error). */
const FINAL_CODES = new Set<ErrorCode>([ErrorCode.NOT_FOUND, ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN]);

export function isFinalErrorCode(code: ErrorCode): boolean {
  return FINAL_CODES.has(code);
}
