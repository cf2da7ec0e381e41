import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { AccessStrategy, Presented } from './caller.js';
import type { TokenVerdicts } from './token-verdicts.js';
import { createOpenAccess } from './open.js';
import { createPassthroughAccess } from './passthrough.js';

/** The access strategy AUTH_MODE names, with the start-up warnings the contract asks for. */
export async function createAccess(
  config: Pick<Config, 'authMode' | 'jwt' | 'cleartaxAuthToken'>,
  logger: Logger,
  edge: { verdicts: TokenVerdicts; clientAddress: (request: Presented) => string },
): Promise<AccessStrategy> {
  switch (config.authMode) {
    case 'passthrough':
      if (config.cleartaxAuthToken !== undefined) {
        logger.warn(
          'CLEARTAX_AUTH_TOKEN is ignored with AUTH_MODE=passthrough: every caller must send its own ClearTax token',
        );
      }
      return createPassthroughAccess(edge);
    case 'open':
      logger.warn(
        "AUTH_MODE=open: anyone who reaches the gateway reads with the server's ClearTax token (for local demos)",
      );
      return createOpenAccess({ upstreamToken: config.cleartaxAuthToken!, clientAddress: edge.clientAddress });
    case 'jwt': {
      // Loaded only in jwt mode (jose).
      const { createJwtAccess } = await import('./jwt.js');
      return createJwtAccess({
        ...config.jwt!,
        upstreamToken: config.cleartaxAuthToken!,
        logger: logger.child({ component: 'jwt' }),
      });
    }
  }
}
