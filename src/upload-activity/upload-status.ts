import 'reflect-metadata';
import { registerEnumType } from 'type-graphql';
import { UPSTREAM_STATUSES } from '../domain/index.js';

/** Where an upload is in ClearTax's processing, as clients see it. */
export enum UploadStatus {
  INIT = 'INIT',
  UPLOADED = 'UPLOADED',
  QUEUED = 'QUEUED',
  PROCESSING = 'PROCESSING',
  PROCESSED = 'PROCESSED',
  ABORTED = 'ABORTED',
  UNKNOWN = 'UNKNOWN',
}

registerEnumType(UploadStatus, {
  name: 'UploadStatus',
  description: 'Where an upload is in ClearTax processing. PROCESSED and ABORTED are terminal.',
  valuesConfig: {
    INIT: { description: 'Upload registered, file not yet received.' },
    UPLOADED: { description: 'File received.' },
    QUEUED: { description: 'Waiting to be processed; see queuedCount.' },
    PROCESSING: { description: 'Being processed.' },
    PROCESSED: { description: 'Finished successfully (terminal).' },
    ABORTED: { description: 'Failed; see errorMessage (terminal).' },
    UNKNOWN: { description: 'Upstream sent a status this gateway does not know; see rawStatus.' },
  },
});

const known = new Set<string>(UPSTREAM_STATUSES);

/** Maps upstream's string to the enum; anything undocumented is UNKNOWN. */
export function toUploadStatus(rawStatus: string): UploadStatus {
  return known.has(rawStatus) ? (rawStatus as UploadStatus) : UploadStatus.UNKNOWN;
}
