import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/domain/index.js';
import { GatewayError, errorCodeOf, maskError } from '../../src/errors.js';
import { UpstreamError } from '../../src/upstream/upstream-error.js';

const located = (error: unknown) =>
  new GraphQLError('wrapped', { path: ['uploadActivity'], originalError: error as Error });

describe('maskError', () => {
  it('gives an upstream error its code and upstream details', () => {
    const upstream = { httpStatus: 404, code: '404', message: 'No activity found for id x' };
    const error = new UpstreamError(ErrorCode.NOT_FOUND, 'No activity found for id x', {
      upstream,
      isRetryable: false,
    });
    expect(maskError({ message: 'wrapped', path: ['uploadActivity'] }, located(error))).toEqual({
      message: 'No activity found for id x',
      path: ['uploadActivity'],
      extensions: { code: 'NOT_FOUND', upstream },
    });
  });

  it('passes gateway errors without upstream details', () => {
    const error = new GatewayError(ErrorCode.BAD_USER_INPUT, 'activityIds may list at most 2 ids, got 3');
    expect(maskError({ message: 'x' }, located(error)).extensions).toEqual({ code: 'BAD_USER_INPUT' });
  });

  it('keeps codes set by graphql-js and Apollo, minus any stack', () => {
    const formatted = {
      message: 'Variable "$a" got invalid value',
      extensions: { code: 'BAD_USER_INPUT', stacktrace: ['at x'] },
    };
    expect(maskError(formatted, new GraphQLError(formatted.message))).toEqual({
      message: formatted.message,
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });

  it('masks anything else as INTERNAL_SERVER_ERROR with no details', () => {
    const secret = new Error('connect ECONNREFUSED http://internal:8080/?token=abc');
    const masked = maskError(
      { message: secret.message, path: ['uploadActivity'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      located(secret),
    );
    expect(masked).toEqual({
      message: 'Internal server error',
      path: ['uploadActivity'],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});

describe('maskError for errors graphql-js raises itself', () => {
  it('calls a codeless request error (no original error) a validation failure, keeping its message', () => {
    const error = new GraphQLError('Cannot query field "nope" on type "UploadActivity".');
    expect(maskError(error.toJSON(), error)).toEqual({
      message: 'Cannot query field "nope" on type "UploadActivity".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
  });

  it.each(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND'])(
    'passes %s on',
    (code) => {
      const error = new GraphQLError('x', { extensions: { code } });
      expect(maskError(error.toJSON(), error).extensions).toEqual({ code });
    },
  );

  it('masks an unknown code as INTERNAL_SERVER_ERROR', () => {
    const error = new GraphQLError('db password is hunter2', { extensions: { code: 'SOMETHING_INTERNAL' } });
    expect(maskError(error.toJSON(), error)).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
  });
});

describe('errorCodeOf (logs and metrics)', () => {
  it('reads the code a client will see', () => {
    expect(errorCodeOf(located(new UpstreamError(ErrorCode.RATE_LIMITED, 'slow down', { isRetryable: true })))).toBe(
      'RATE_LIMITED',
    );
    expect(errorCodeOf(new GatewayError(ErrorCode.FORBIDDEN, 'no'))).toBe('FORBIDDEN');
    expect(errorCodeOf(new GraphQLError('bad', { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }))).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
    expect(errorCodeOf(located(new TypeError('undefined is not a function')))).toBe('INTERNAL_SERVER_ERROR');
    expect(errorCodeOf('a string')).toBe('INTERNAL_SERVER_ERROR');
  });
});
