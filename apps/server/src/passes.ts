/**
 * The loop behind a background worker (the email outbox, webhook delivery):
 * a pass runs soon after `notify()`, off the request path (it starts once the
 * code that notified has run to its end, so the response that follows a
 * commit is written first), and on an interval (for retries that fall due
 * and work other processes left behind). Passes never overlap: a notify
 * during a pass runs one more after it. `stop()` stops the interval and waits
 * for the pass in flight.
 */
export class Passes {
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Immediate | undefined;
  private firstPass: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stoppedFlag = true;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly intervalMs: number,
    /** Runs before each interval's pass. */
    private readonly onInterval: () => void = () => {},
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  notify(): void {
    if (this.stoppedFlag || this.soon) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.soon = setImmediate(() => {
      this.soon = undefined;
      if (!this.stoppedFlag) this.run();
    });
  }

  private run(): void {
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again && !this.stoppedFlag) {
        this.again = false;
        this.notify();
      }
    });
  }

  /** Starts the interval, and a first pass at once or, given `firstPassAfterMs`, that much later (a notify runs one sooner). */
  start(firstPassAfterMs = 0): void {
    this.stoppedFlag = false;
    this.timer = setInterval(() => {
      this.onInterval();
      this.notify();
    }, this.intervalMs);
    this.timer.unref();
    if (firstPassAfterMs > 0) {
      this.firstPass = setTimeout(() => this.notify(), firstPassAfterMs);
      this.firstPass.unref();
    } else this.notify();
  }

  async stop(): Promise<void> {
    this.stoppedFlag = true;
    clearInterval(this.timer);
    clearImmediate(this.soon);
    this.soon = undefined;
    clearTimeout(this.firstPass);
    await this.running;
  }
}
