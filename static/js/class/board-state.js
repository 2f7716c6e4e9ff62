// The class board's state, built from its stream's events; pure (no DOM), so Node tests it.

export class BoardState {
  constructor() {
    this.reset({});
  }

  /** A `class` event starts the state again: a board that reconnects gets everything anew. */
  reset(facts) {
    this.facts = facts;
    this.runs = new Map(); // id -> {id, name, params, points: [[step, loss]], status, loss}
  }

  apply(kind, data) {
    if (kind === "class") this.reset(data);
    else if (kind === "run") {
      if (!this.runs.has(data.id)) this.runs.set(data.id, { ...data, points: [], status: "running", loss: null });
    } else if (kind === "points") {
      for (const [id, points] of Object.entries(data.runs)) this.runs.get(id)?.points.push(...points);
    } else if (kind === "end") {
      const run = this.runs.get(data.id);
      if (run) Object.assign(run, { status: data.status, loss: data.loss });
    }
  }

  counts() {
    const counts = { running: 0, done: 0, diverged: 0 };
    for (const run of this.runs.values()) {
      if (run.status in counts) counts[run.status] += 1;
    }
    return counts;
  }

  /** uPlot's aligned data for the curves: the union of every run's steps, null where a run has
   * no point at a step (the chart spans the gaps). */
  curves() {
    const runs = [...this.runs.values()];
    const steps = [...new Set(runs.flatMap((r) => r.points.map((p) => p[0])))].sort((a, b) => a - b);
    const at = new Map(steps.map((s, i) => [s, i]));
    const columns = runs.map((run) => {
      const column = new Array(steps.length).fill(null);
      for (const [step, loss] of run.points) column[at.get(step)] = loss;
      return column;
    });
    return { runs, data: [steps, ...columns] };
  }

  /** The scatter's points: one per ended run with `param` in its params, as [x, final loss],
   * sorted by x; diverged runs apart (their final loss is no number to place). */
  scatter(param) {
    const ended = [...this.runs.values()].filter((r) => r.status !== "running" && typeof r.params[param] === "number");
    const finished = ended.filter((r) => r.status !== "diverged" && Number.isFinite(r.loss));
    const diverged = ended.filter((r) => r.status === "diverged");
    const byX = (a, b) => a[0] - b[0];
    return {
      finished: finished.map((r) => [r.params[param], r.loss]).sort(byX),
      diverged: diverged.map((r) => r.params[param]).sort((a, b) => a - b),
    };
  }
}
