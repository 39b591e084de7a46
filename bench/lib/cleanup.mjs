/**
 * Whatever a benchmark starts (servers, xargs, temp dirs) is registered here so it is stopped when the
 * benchmark ends in any way: normally, by an error, or by Ctrl-C / SIGTERM / SIGHUP. Signals get an
 * orderly async stop; the process 'exit' hook can only act synchronously, so it kills what is left.
 */

/** @typedef {{ stop(): Promise<void>, killNow(): void }} Resource */

/** @type {Set<Resource>} */
const live = new Set();
let installed = false;
let exiting = false;

/** Installs the exit and signal hooks once; called by entry points before they start anything. */
export function installCleanupHooks() {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const resource of live) resource.killNow();
    live.clear();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (exiting) return;
      exiting = true;
      process.stderr.write(`\n${signal}: stopping what the benchmark started\n`);
      const code = 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal] ?? 0);
      Promise.allSettled([...live].map((resource) => resource.stop())).finally(() => process.exit(code));
    });
  }
}

/** True once a signal asked the benchmark to stop: failures of what is being torn down are expected then. */
export function isStopping() {
  return exiting;
}

/**
 * Registers a resource until the returned function is called (after a normal stop).
 * @param {Resource} resource
 */
export function track(resource) {
  installCleanupHooks();
  live.add(resource);
  return () => live.delete(resource);
}

/** Sends a signal to a process group led by pid; a group already gone is not an error. */
export function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
