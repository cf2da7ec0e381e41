import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, type Config } from '../config.js';
import { checkoutPath } from './checkout.js';
import { createTrustedDocuments, type TrustedDocuments } from '../server/trusted-documents.js';

/**
 * The persisted documents the gateway resolves by hash: the project's own operations
 * (`schema/generated/persisted-documents.json`, written by codegen; always), and with
 * TRUSTED_DOCUMENTS a client team's manifest, which also makes them the only
 * documents that run.
 */
export async function loadTrustedDocuments(config: Config, logger: Logger): Promise<TrustedDocuments> {
  const own = checkoutPath('schema/generated/persisted-documents.json');
  const manifests: Record<string, string>[] = [];
  try {
    manifests.push(parseManifest(await readFile(own, 'utf8'), fileURLToPath(own)));
  } catch (error) {
    logger.warn({ err: error, path: fileURLToPath(own) }, "the project's persisted-documents manifest is missing");
  }
  if (config.trustedDocuments !== undefined) {
    let text: string;
    try {
      text = await readFile(config.trustedDocuments, 'utf8');
    } catch (error) {
      throw new ConfigError(`TRUSTED_DOCUMENTS cannot be read: ${(error as Error).message}`);
    }
    const manifest = parseManifest(text, config.trustedDocuments);
    manifests.push(manifest);
    logger.info(
      { path: config.trustedDocuments, documents: Object.keys(manifest).length },
      'trusted documents: only listed operations run',
    );
  }
  return createTrustedDocuments({ manifests, enforce: config.trustedDocuments !== undefined });
}

/** A manifest: a JSON object from hash to document text, else a ConfigError naming the file. */
function parseManifest(text: string, path: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`TRUSTED_DOCUMENTS: ${path} must be a JSON object from hash to document text`);
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== 'string' || !/^(sha256:)?[0-9a-f]{64}$/i.test(hash))
      throw new ConfigError(
        `TRUSTED_DOCUMENTS: ${path} has an entry that is not "<sha256 hex>": "<document>" (${hash})`,
      );
  }
  return parsed as Record<string, string>;
}
