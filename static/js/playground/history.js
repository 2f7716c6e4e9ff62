// The runs a panel shows: the current one plus up to five earlier ones as faded overlays, and a
// pinned reference run (?ref=, or a teacher's pin) that no new run or "Clear all" replaces. No DOM.

const MAX_OVERLAYS = 5;

export class RunHistory {
  constructor() {
    this.current = null;
    this.overlays = [];
    this.reference = null;
    this.count = 0;
  }

  /** The number the next run gets (#1, #2, ...): only runs that started count. */
  get nextNum() {
    return this.count + 1;
  }

  /** A new current run; the previous one becomes an overlay when it drew anything. */
  begin(run) {
    const previous = this.current;
    if (previous && previous.points.length) {
      this.overlays.push(previous);
      while (this.overlays.length > MAX_OVERLAYS) this.overlays.shift();
    }
    this.current = run;
    this.count = Math.max(this.count, run.num);
  }

  /** The reference first (drawn beneath), then oldest first, the current run last (on top). */
  all() {
    const runs = this.reference ? [this.reference, ...this.overlays] : [...this.overlays];
    return this.current ? [...runs, this.current] : runs;
  }

  /** The current run, else the newest overlay: what the readouts and labels refer to. */
  latest() {
    return this.current || this.overlays[this.overlays.length - 1] || null;
  }

  remove(num) {
    const at = this.overlays.findIndex((r) => r.num === num);
    if (at >= 0) this.overlays.splice(at, 1);
    return at >= 0;
  }

  clearOverlays() {
    this.overlays = [];
  }

  dropCurrent() {
    this.current = null;
  }
}
