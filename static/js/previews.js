// Link previews: hovering or focusing a link to another term shows a small card with its title,
// level and summary. The card is a server-rendered fragment (/terms/<slug>/preview) that htmx
// loads once per term; later showings reuse it. The card floats over the page (no layout shift),
// Escape dismisses it, and it is off on touch screens, where hover does not exist.

const SHOW_MS = 250; // a pointer passing over a link on its way elsewhere shows nothing
const HIDE_MS = 120;
const GAP_PX = 6;
const TERM_PATH = /^\/terms\/([a-z0-9]+(?:-[a-z0-9]+)*)$/;
// Navigation lists name terms already (and the search box has its own list): no cards there.
const SKIP = ".term-preview, .sidebar, .breadcrumb, .prev-next, .site-header, .suggestions";

const canHover = matchMedia("(hover: hover) and (pointer: fine)");

class Previews {
  constructor() {
    this.card = document.createElement("div");
    this.card.id = "term-preview";
    this.card.className = "term-preview";
    this.card.setAttribute("role", "tooltip");
    this.card.hidden = true;
    document.body.append(this.card);
    this.loaded = new Map(); // slug -> the element holding its fragment
    this.link = null; // the link the card is (about to be) shown for
    this.timer = 0;
  }

  slugOf(link) {
    if (!link || link.closest(SKIP) || link.origin !== location.origin) return null;
    const match = TERM_PATH.exec(link.pathname);
    return match && link.pathname !== location.pathname ? match[1] : null;
  }

  /** The fragment of a term, loaded with htmx the first time it is asked for. */
  async fragment(slug) {
    let holder = this.loaded.get(slug);
    if (!holder) {
      holder = document.createElement("div");
      holder.className = "term-preview-body";
      this.loaded.set(slug, holder);
      this.card.replaceChildren(holder);
      await htmx.ajax("GET", `/terms/${slug}/preview`, { target: holder, swap: "innerHTML" });
      if (!holder.firstElementChild) this.loaded.delete(slug); // failed: try again next time
    }
    return holder;
  }

  later(job, ms) {
    clearTimeout(this.timer);
    this.timer = setTimeout(job, ms);
  }

  enter(link, ms = SHOW_MS) {
    const slug = this.slugOf(link);
    if (!slug) return;
    if (this.link === link && !this.card.hidden) return clearTimeout(this.timer);
    this.link = link;
    this.later(async () => {
      const holder = await this.fragment(slug);
      if (this.link !== link || !holder.firstElementChild) return; // moved on meanwhile
      this.card.replaceChildren(holder);
      this.card.hidden = false;
      this.place(link);
      link.setAttribute("aria-describedby", this.card.id);
    }, ms);
  }

  leave(link) {
    if (link && link === this.link) this.later(() => this.hide(), HIDE_MS);
  }

  hide() {
    clearTimeout(this.timer);
    this.card.hidden = true;
    if (this.link) this.link.removeAttribute("aria-describedby");
    this.link = null;
  }

  /** Under the link, or over it when there is no room below; always inside the viewport. */
  place(link) {
    const box = link.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = this.card;
    const below = box.bottom + GAP_PX + height <= innerHeight || box.top < height + GAP_PX;
    const top = below ? box.bottom + GAP_PX : box.top - GAP_PX - height;
    const left = Math.max(GAP_PX, Math.min(box.left, document.documentElement.clientWidth - width - GAP_PX));
    this.card.style.top = `${top + scrollY}px`;
    this.card.style.left = `${left + scrollX}px`;
  }
}

function start() {
  if (!canHover.matches || typeof htmx === "undefined") return;
  const previews = new Previews();
  const linkOf = (event) => event.target.closest?.("a[href]") || null;
  document.addEventListener("pointerover", (event) => previews.enter(linkOf(event)));
  document.addEventListener("pointerout", (event) => {
    const link = linkOf(event);
    if (link && !link.contains(event.relatedTarget)) previews.leave(link);
  });
  document.addEventListener("focusin", (event) => previews.enter(linkOf(event), 0));
  document.addEventListener("focusout", (event) => previews.leave(linkOf(event)));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !previews.card.hidden) previews.hide();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start, { once: true });
else start();
