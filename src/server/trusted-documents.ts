import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { refusal } from '../errors.js';
import type { Refused } from './refusal.js';

/** The shape of Apollo's `persistedQueries.cache` (a KeyValueCache of document texts). */
export interface DocumentTextCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

/** What a request may carry to name its document: the text, and/or a hash (Apollo's APQ shape, or `documentId`). */
export interface DocumentReference {
  readonly query?: unknown;
  readonly extensions?: unknown;
  readonly documentId?: unknown;
}

export interface TrustedDocumentsOptions {
  /** Persisted-document manifests (hash → text; a hash may carry the `sha256:` prefix codegen writes), merged. */
  manifests: readonly Readonly<Record<string, string>>[];
  /** Only the manifests' documents run (TRUSTED_DOCUMENTS set); else any text runs and hashes are a convenience. */
  enforce: boolean;
}

/**
 * Persisted and trusted documents, the same on every transport. The manifests'
 * documents (the project's own operations, always; a client team's, with
 * TRUSTED_DOCUMENTS) resolve by hash; with `enforce`, nothing else runs:
 * an unknown hash is PERSISTED_QUERY_NOT_FOUND, a text whose sha256 is not listed
 * OPERATION_NOT_TRUSTED, both before any parsing or upstream call.
 */
export interface TrustedDocuments {
  readonly enforce: boolean;
  /**
   * The document text a request names: `{ query }`, a refusal, or undefined when it
   * names a hash not in the manifests and nothing is enforced (HTTP leaves that to
   * Apollo's own APQ; other transports answer PERSISTED_QUERY_NOT_FOUND).
   */
  resolve(request: DocumentReference): { query: string } | Refused | undefined;
  /** The sha256 hex hash a request names, if any (`extensions.persistedQuery.sha256Hash` or `documentId`). */
  hashOf(request: DocumentReference): string | undefined;
  /** Apollo's APQ cache: the manifests first; what clients register is kept only when nothing is enforced. */
  readonly apqCache: DocumentTextCache;
}

export function createTrustedDocuments(options: TrustedDocumentsOptions): TrustedDocuments {
  const known = new Map<string, string>();
  for (const manifest of options.manifests)
    for (const [hash, text] of Object.entries(manifest)) known.set(bareHash(hash), text);
  const trustedTexts = new Set(known.keys());
  const { enforce } = options;
  // Apollo's own registrations (APQ), bounded; never consulted for trust.
  const registered = new LRUCache<string, string>({ max: 10_000 });

  const hashOf = (request: DocumentReference): string | undefined => {
    const persisted = (request.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
    if (typeof persisted?.sha256Hash === 'string') return bareHash(persisted.sha256Hash);
    return typeof request.documentId === 'string' ? bareHash(request.documentId) : undefined;
  };

  return {
    enforce,
    hashOf,
    resolve(request) {
      const hash = hashOf(request);
      const text = typeof request.query === 'string' && request.query !== '' ? request.query : undefined;
      if (text !== undefined) {
        if (!enforce || trustedTexts.has(sha256(text))) return { query: text };
        return { refused: [notTrusted()] };
      }
      if (hash === undefined) return undefined;
      const listed = known.get(hash);
      if (listed !== undefined) return { query: listed };
      return enforce ? { refused: [notFound()] } : undefined;
    },
    // Apollo prefixes its APQ keys (`apq:<sha256 hex>`).
    apqCache: {
      async get(key) {
        return known.get(key.replace(/^apq:/, '')) ?? (enforce ? undefined : registered.get(key));
      },
      async set(key, value) {
        if (!enforce) registered.set(key, value);
      },
      async delete(key) {
        return registered.delete(key);
      },
    },
  };
}

/** A hash as sent or as codegen writes it (`sha256:<hex>`), as lower-case hex. */
function bareHash(hash: string): string {
  return hash.replace(/^sha256:/i, '').toLowerCase();
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export const notFound = () =>
  refusal('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound: no trusted document has this hash', { status: 400 });

const notTrusted = () =>
  refusal(
    'OPERATION_NOT_TRUSTED',
    'This document is not in the trusted-documents manifest: send the hash of a listed operation',
    { status: 400 },
  );
