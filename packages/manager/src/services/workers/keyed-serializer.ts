/** Runs async jobs one at a time per key, in call order; different keys run concurrently. */
export interface KeyedSerializer {
  run<T>(key: string, job: () => Promise<T>): Promise<T>;
  /** Keys with queued or running jobs. */
  readonly size: number;
}

/**
 * Creates a per-key serializer. The worker socket runs up to 64 requests of one worker at once, so
 * two updates of one task could otherwise overtake each other and append their log text out of
 * order; serializing per task keeps each task's updates in arrival order.
 */
export function createKeyedSerializer(): KeyedSerializer {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run(key, job) {
      const previous = tails.get(key) ?? Promise.resolve();
      const result = previous.then(job, job);
      const tail = result.catch(() => {});
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    get size() {
      return tails.size;
    },
  };
}
