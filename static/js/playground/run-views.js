// The views of the current run below its charts: facts (from `start`), examples and the feed
// (from points as they stream), live-change chips, the summary (from `end`), its permalink and
// its reproduce-locally script (offered from the start: the script replays the changes so far).

import { ChangeList } from "./changes.js";
import { el } from "./dom.js";
import { Feed } from "./feed.js";
import { isPlainObject } from "./format.js";
import { renderExamples, renderFacts, renderSummary } from "./summary.js";

export class RunViews {
  /** `words`: the demo's {labels} for keys of facts and summaries, and {notes}, what each figure
   * of a summary is, by its key (its summary_notes). */
  constructor(section, feeds, words = {}) {
    this.words = words;
    this.facts = section.querySelector(".pg-facts");
    this.summary = section.querySelector(".pg-summary");
    this.permalink = section.querySelector(".pg-permalink");
    this.script = section.querySelector(".pg-script");
    this.examples = el("div", "pg-examples");
    this.examples.hidden = true;
    this.summary?.before(this.examples);
    this.changes = new ChangeList(section.querySelector(".pg-status"));
    this.feed = new Feed(section.querySelector(".pg-feed"), feeds);
    this.bars = null;
  }

  clear() {
    if (this.facts) this.facts.replaceChildren();
    if (this.summary) this.summary.replaceChildren();
    this.disposeBars();
    this.examples.replaceChildren();
    this.examples.hidden = true;
    this.changes.clear();
    this.feed.clear();
    for (const link of [this.permalink, this.script]) if (link) link.hidden = true;
  }

  disposeBars() {
    if (this.bars) this.bars.dispose();
    this.bars = null;
  }

  started(run) {
    renderFacts(this.facts, run, { labels: this.words.labels }); // the notes are the summary's
    if (this.script) {
      this.script.href = `/api/runs/${encodeURIComponent(run.id)}/script.py`;
      this.script.hidden = false;
    }
  }

  points(points) {
    renderExamples(this.examples, points);
    this.feed.add(points);
  }

  changed(step, params) {
    this.changes.add(step, params);
  }

  ended(run, theme) {
    this.disposeBars();
    const summary = isPlainObject(run.end.summary) ? run.end.summary : {};
    this.bars = renderSummary(this.summary, summary, run, theme, this.words);
    if (this.permalink) {
      this.permalink.href = `/runs/${encodeURIComponent(run.id)}`;
      this.permalink.hidden = false;
    }
  }

  retheme() {
    if (this.bars) this.bars.draw();
  }
}
