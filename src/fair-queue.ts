import { AsyncResource } from 'node:async_hooks';
/**
 * A concurrency limit that is fair between callers: at most `concurrency` tasks run
 * at once, and a free slot goes to the callers with waiting tasks in turn (round
 * robin), each caller's own tasks in arrival order. One caller's burst of a
 * thousand reads therefore delays another caller's single read by at most one
 * task, where a plain FIFO (p-limit) would put it behind the whole burst.
 *
 * Hand-written because the well-kept limiters (p-limit, p-queue) are FIFO or
 * priority queues; none rotates between keys or drops a queued task when its
 * signal aborts.
 */
export interface FairQueue {
  /**
   * Runs `task` once a slot is free and it is `callerId`'s turn. When `signal`
   * aborts while the task still waits, it leaves the queue unrun and the promise
   * rejects with `onAbandon(signal)`.
   */
  run<T>(callerId: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Tasks of `callerId` waiting for a slot (not those running). */
  waitingFor(callerId: string): number;
}

export interface FairQueueOptions {
  /** Tasks running at once (UPSTREAM_MAX_CONCURRENCY). */
  concurrency: number;
  /** The error a task that was abandoned while waiting rejects with. @default the signal's reason */
  onAbandon?: (signal: AbortSignal) => unknown;
}

interface Job {
  start(): void;
  isDone: boolean;
}

export function createFairQueue(options: FairQueueOptions): FairQueue {
  const { concurrency } = options;
  const onAbandon = options.onAbandon ?? ((signal: AbortSignal) => signal.reason);
  // Callers with waiting jobs. The next slot goes to the one served longest ago (a
  // caller never served counts as longest ago; ties go to the earlier arrival).
  const waiting = new Map<string, Job[]>();
  const lastServed = new Map<string, number>();
  let turn = 0;
  let running = 0;

  function nextCaller(): string {
    let chosen = '';
    let chosenTurn = Infinity;
    for (const callerId of waiting.keys()) {
      const served = lastServed.get(callerId) ?? -1;
      if (served < chosenTurn) {
        chosen = callerId;
        chosenTurn = served;
      }
    }
    return chosen;
  }

  function next(): void {
    while (running < concurrency && waiting.size > 0) {
      const callerId = nextCaller();
      const jobs = waiting.get(callerId)!;
      const job = jobs.shift()!;
      if (jobs.length === 0) waiting.delete(callerId);
      lastServed.set(callerId, ++turn);
      running += 1;
      job.start();
    }
    // Only callers with work waiting need remembering: the rest start from "never served".
    if (waiting.size === 0 && running === 0) lastServed.clear();
  }

  function remove(callerId: string, job: Job): void {
    const jobs = waiting.get(callerId);
    const index = jobs?.indexOf(job) ?? -1;
    if (!jobs || index < 0) return;
    jobs.splice(index, 1);
    if (jobs.length === 0) waiting.delete(callerId);
  }

  return {
    run<T>(callerId: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (signal?.aborted) return Promise.reject(onAbandon(signal));
      let run = task;
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          if (job.isDone) return;
          job.isDone = true;
          remove(callerId, job);
          reject(onAbandon(signal!));
        };
        const job: Job = {
          isDone: false,
          start() {
            job.isDone = true;
            signal?.removeEventListener('abort', onAbort);
            void (async () => run())()
              .then(resolve, reject)
              .finally(() => {
                running -= 1;
                next();
              });
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        const jobs = waiting.get(callerId);
        if (jobs) jobs.push(job);
        else waiting.set(callerId, [job]);
        next();
        // Still waiting: it will start from whichever task frees a slot, so it runs in the
        // context it was queued from and what it does (a traced upstream read) stays its
        // own request's. A task that started at once is already in that context.
        if (!job.isDone) run = AsyncResource.bind(task);
      });
    },
    waitingFor(callerId) {
      return waiting.get(callerId)?.length ?? 0;
    },
  };
}
