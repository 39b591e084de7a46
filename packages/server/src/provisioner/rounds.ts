/**
 * A provisioner's rounds: one every interval and one on demand (`kick`), never two at once; a kick during
 * a round runs one more right after it, so no change is missed and none is acted on twice in parallel.
 */
export class Rounds {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly round: () => Promise<void>,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.kick(), this.intervalMs);
    this.timer.unref();
    this.kick();
  }

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.round();
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  /** No round starts after this; resolves once the one under way (if any) ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  get isStopped(): boolean {
    return this.stopped;
  }
}

/**
 * A provisioner that is nothing but its rounds: it runs `round()` every interval and on `kick()`, and a
 * round that throws is logged and counted, never fatal.
 */
export abstract class RoundsOf {
  private readonly rounds: Rounds;
  failures = 0;

  constructor(
    intervalMs: number,
    private readonly what: string,
    private readonly logger: { error(details: object, message: string): void },
  ) {
    this.rounds = new Rounds(() => this.guarded(), intervalMs);
  }

  start(): void {
    this.rounds.start();
  }

  kick(): void {
    this.rounds.kick();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  protected abstract round(): Promise<void>;

  /** Whether stop() was called: a long round should end early. */
  protected get stopping(): boolean {
    return this.rounds.isStopped;
  }

  private async guarded(): Promise<void> {
    try {
      await this.round();
    } catch (err) {
      this.failures++;
      this.logger.error({ err, failures: this.failures }, `${this.what} round failed`);
    }
  }
}
