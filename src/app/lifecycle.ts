import type { Logger } from 'pino';

/** Where a gateway is in its life; it only ever moves forward. */
export type Phase = 'created' | 'starting' | 'serving' | 'draining' | 'stopped';

interface Step {
  readonly name: string;
  readonly run: () => Promise<void> | void;
}

/**
 * A gateway's life as explicit phases (created → starting → serving → draining →
 * stopped), the way Apollo Server models its own. Whatever is built registers how
 * it is drained (stop taking work, finish what is in flight) and how it is disposed
 * (release it); stopping runs every drain step, then every dispose step, each list
 * in reverse order of registration, so what was built last goes first.
 *
 * Stop is idempotent and safe in any phase: before start it disposes what exists
 * and the gateway can no longer start; during start it waits for start to settle,
 * then drains what start built.
 */
export class Lifecycle {
  private current: Phase = 'created';
  private readonly drains: Step[] = [];
  private readonly disposers: Step[] = [];
  private starting: Promise<unknown> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  get phase(): Phase {
    return this.current;
  }

  /** How to stop taking work and finish what is in flight; drained before anything is disposed. */
  onDrain(name: string, run: () => Promise<void> | void): void {
    this.drains.push({ name, run });
  }

  /** How to release something once nothing uses it any more. */
  onDispose(name: string, run: () => Promise<void> | void): void {
    this.disposers.push({ name, run });
  }

  /** Runs `start` once (created → starting → serving); asked again, answers the same promise. Refused once stopping. */
  start<T>(start: () => Promise<T>): Promise<T> {
    if (this.starting) return this.starting as Promise<T>;
    if (this.current !== 'created') return Promise.reject(new Error(`The gateway is ${this.current}: it cannot start`));
    this.current = 'starting';
    const started = start().then((value) => {
      if (this.current === 'starting') this.current = 'serving';
      return value;
    });
    this.starting = started;
    return started;
  }

  /** Drains, then disposes; idempotent. A failing step is logged and the rest still run; the first failure is thrown at the end. */
  stop(): Promise<void> {
    this.stopping ??= this.runStop();
    return this.stopping;
  }

  private async runStop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.current = 'draining';
    let failure: unknown;
    for (const step of [...this.drains.toReversed(), ...this.disposers.toReversed()]) {
      try {
        await step.run();
      } catch (error) {
        this.logger.error({ err: error, step: step.name }, 'shutdown step failed');
        failure ??= error;
      }
    }
    this.current = 'stopped';
    if (failure !== undefined) throw failure;
  }
}
