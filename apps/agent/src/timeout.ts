/**
 * `promise`'s value, or `"timeout"` when it takes longer than `ms`; a rejection passes through.
 * The timer is cleared as soon as the promise settles, so nothing keeps the process alive.
 */
export const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("timeout"), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
