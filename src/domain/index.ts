/**
 * The domain every layer speaks: activity keys, status snapshots and events, error
 * codes, and their pure rules. A leaf: it imports nothing of ours.
 */
export * from './activity-key.js';
export * from './error-code.js';
export * from './status-event.js';
export * from './status-snapshot.js';
