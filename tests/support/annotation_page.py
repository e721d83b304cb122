#!/usr/bin/python3 -I
"""The build page's annotations as a team sees them, for tests and the demo.

Reads the stub agent's build-scoped annotations (AGENT_DIR/annotations/<context>.md,
.style, .priority), renders each body with cmark-gfm (CommonMark + GitHub's
extensions, what Buildkite renders annotations with; raw HTML kept, as Buildkite
keeps its safe subset), turns the emoji shortcodes the plugin uses into emoji,
and lays the boxes out as a build page does: highest priority first, then in the
order the contexts were created, one coloured box per context.

  annotation_page.py AGENT_DIR OUT.html [--screenshot OUT.png] [--layout OUT.json]
                     [--width 1000] [--open]

--screenshot loads the page in headless Chromium (Debian's `chromium`) and
saves what it shows, as tall as the page is (estimated from the text).

--layout loads it in headless Chromium too, with a script that measures the
layout Chromium computed (getBoundingClientRect, getComputedStyle,
checkVisibility) once the page has loaded, and writes what a reader sees as
JSON (read back from --dump-dom; no timing in it):
  boxes               each box: context, style, position, scroll/client
                      width, visible (laid out, not hidden, inside the width)
  overlaps            pairs of boxes that share pixels
  overflows           a box, element or text wider than its box
  headings            each section's heading (bold, opening with one of the
                      plugin's emoji): its top, the bottom of what comes before
                      it in the box, whether it is first in its block;
                      own_line when it starts a line of its own
  misplaced_headings  the headings that do not (one that ran into the
                      paragraph before it)
  job_links           each "job N of M" link and whether it sits on the line
                      of its heading; stray_job_links those that do not
  time_entries        the time box's entries, one per job whatever they are
                      (<summary>, paragraph or table row), in page order
  shortcodes          :shortcode: text left anywhere, folded parts included
  visible_text        the page's text as shown (folded parts left out)
Every list of problems is empty on a page that reads well.

--open unfolds every <details>, to look at (or measure) what a click shows.
--width sets the window's width in CSS pixels. Exits 1 when cmark-gfm or
Chromium fails.
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EMOJI = {":x:": "\u274c", ":warning:": "\u26a0\ufe0f", ":white_check_mark:": "\u2705",
         ":link:": "\U0001f517", ":information_source:": "\u2139\ufe0f",
         ":stopwatch:": "\u23f1\ufe0f", ":pytest:": "\U0001f9ea"}
COLOURS = {"error": ("#fdf2f2", "#e0b4b4", "#c0392b"),
           "warning": ("#fffbea", "#e8d9a0", "#b7791f"),
           "info": ("#eef6fd", "#b6d4ef", "#2b6cb0"),
           "success": ("#effaf3", "#b4dfc4", "#2f855a"),
           "default": ("#f7f7f7", "#dddddd", "#555555")}
STYLE = """
body { font: 14px/1.5 -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; margin: 24px;
       color: #222; background: #fff; }
.box { border: 1px solid; border-left-width: 6px; border-radius: 4px; padding: 4px 16px;
       margin: 0 0 16px 0; }
.ctx { font: 11px monospace; color: #888; margin: 8px 0 0 0; }
code { background: rgba(0,0,0,.06); padding: 1px 4px; border-radius: 3px; font-size: 12px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
th { background: rgba(0,0,0,.04); }
h1, h2, h3, h4 { margin: 14px 0 6px 0; }
h4 { font-size: 15px; }
ul { margin: 4px 0; padding-left: 24px; }
p { margin: 6px 0; }
details { margin: 6px 0; }
"""


def render(markdown):
    out = subprocess.run(["cmark-gfm", "--unsafe", "-e", "table", "-e", "strikethrough",
                          "-e", "autolink"], input=markdown.encode("utf-8", "surrogateescape"),
                         capture_output=True, check=True)
    text = out.stdout.decode("utf-8", "replace")
    for code, emoji in EMOJI.items():
        text = text.replace(code, emoji)
    return text


def boxes(agent_dir):
    folder = os.path.join(agent_dir, "annotations")
    found = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith(".md"):
            continue
        base = os.path.join(folder, name[:-3])

        def read(suffix, default):
            try:
                with open(base + suffix, encoding="utf-8") as f:
                    return f.read().strip()
            except OSError:
                return default
        with open(base + ".md", encoding="utf-8", errors="surrogateescape") as f:
            body = f.read()
        created = os.stat(base + ".md").st_ctime_ns
        priority = int(read(".priority", "3") or 3)
        found.append((-priority, read(".style", "default"), created, name[:-3], body))
    # A build page shows higher priorities first; within one, the oldest context first.
    found.sort(key=lambda b: (b[0], b[2]))
    return found


def page(agent_dir, unfold=False):
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>annotations</title>",
             "<style>", STYLE, "</style></head><body>"]
    for _, style, _, context, body in boxes(agent_dir):
        bg, border, accent = COLOURS.get(style, COLOURS["default"])
        parts.append("<div class='box' data-context='%s' data-style='%s' style='background:%s;"
                     "border-color:%s;border-left-color:%s'>" % (
                         html.escape(context, True), html.escape(style, True), bg, border, accent))
        rendered = render(body)
        parts.append(rendered.replace("<details>", "<details open>") if unfold else rendered)
        parts.append("<p class='ctx'>context %s &middot; style %s</p></div>"
                     % (html.escape(context), html.escape(style)))
    parts.append("</body></html>\n")
    return "".join(parts)


def page_height(html_text, width):
    """A generous estimate of the page's height in pixels: lines of text at
    the page's line height, wrapped at the width, plus the boxes' padding."""
    text = re.sub(r"<(p|li|h\d|summary|tr|pre)[ >]", "\n\\g<0>", html_text)
    text = re.sub(r"<[^>]+>", "", text)
    chars_per_line = max(40, (width - 80) // 8)
    lines = sum(1 + len(line) // chars_per_line for line in text.splitlines() if line.strip())
    return min(16000, 200 + lines * 24 + html_text.count("class='box'") * 40)


def chromium_command(profile, width, height):
    """Headless Chromium with nothing of its own going on: a private profile
    (removed with it), no network but what the page loads (a file), no
    updates. --no-sandbox: its sandbox needs user namespaces, which neither
    root nor most containers give it."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("annotation_page.py: chromium is not installed (apt-get install chromium)")
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile,
            "--window-size=%d,%d" % (width, height)]


def screenshot(html_path, png_path, width):
    with tempfile.TemporaryDirectory(prefix="tep-chromium-") as profile:
        cmd = chromium_command(profile, width, page_height(open(html_path).read(), width))
        cmd += ["--screenshot=" + os.path.abspath(png_path), "file://" + os.path.abspath(html_path)]
        done = subprocess.run(cmd, capture_output=True, timeout=CHROMIUM_TIMEOUT)
    if done.returncode != 0 or not os.path.exists(png_path):
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        sys.exit("annotation_page.py: chromium exited %d without a screenshot" % done.returncode)


# Generous: Chromium's first start on a loaded CI machine (a cold profile, the
# emoji font) can take tens of seconds; nothing here asserts a time.
CHROMIUM_TIMEOUT = 300

# The probe the --layout page carries: after the load event (the page has no
# web fonts, only system ones, so its layout is final by then) it measures
# what Chromium laid out and writes the facts as JSON into a hidden <pre>,
# which --dump-dom then prints with the rest of the DOM. Each list of problems
# is empty on a page that reads well; the raw measures are there to say why.
PROBE = """
(function () {
  "use strict";
  const MARKERS = %(markers)s;  // the emoji a section's heading starts with
  const SLACK = 0.5;            // px: sub-pixel rounding, not a layout difference
  const y = (v) => v + window.scrollY;
  const shown = (rects) => [...rects].filter((r) => r.width > 0 && r.height > 0);
  const snippet = (text) => text.replace(/\\s+/g, " ").trim().slice(0, 80);

  // The block an inline element is laid out in: a reader's "paragraph".
  function blockOf(node) {
    let e = node.parentElement;
    while (e && getComputedStyle(e).display.startsWith("inline")) e = e.parentElement;
    return e;
  }

  // Everything in `container` before `node`, as a range.
  function before(container, node) {
    const r = document.createRange();
    r.setStart(container, 0);
    r.setEndBefore(node);
    return r;
  }

  // Where a reader sees an element or a text: none of its rectangles when it
  // is folded away (a closed <details> still lays out its content, hidden by
  // content-visibility, so its rectangles alone do not say it is unseen).
  function rectsOf(n) {
    const text = n.nodeType === Node.TEXT_NODE;
    const el = text ? n.parentElement : n;
    if (!el.checkVisibility({visibilityProperty: true, opacityProperty: true})) return [];
    if (!text) return shown(el.getClientRects());
    const r = document.createRange();
    r.selectNodeContents(n);
    return shown(r.getClientRects());
  }

  // The lowest bottom of what a reader sees in `box` before `node` (its
  // ancestors aside): where the next line may start.
  function bottomBefore(box, node, start) {
    let bottom = start;
    const w = document.createTreeWalker(box, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n && n !== node; n = w.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE ? !n.data.trim() : n.contains(node)) continue;
      for (const x of rectsOf(n)) bottom = Math.max(bottom, y(x.bottom));
    }
    return bottom;
  }

  function measure() {
    const out = {viewport_width: window.innerWidth,
                 page_scroll_width: document.documentElement.scrollWidth,
                 boxes: [], overlaps: [], overflows: [], headings: [], misplaced_headings: [],
                 job_links: [], stray_job_links: [], time_entries: [], shortcodes: [],
                 visible_text: document.body.innerText};
    const boxes = [...document.querySelectorAll("div.box")];
    for (const box of boxes) {
      const r = box.getBoundingClientRect(), cs = getComputedStyle(box);
      const context = box.dataset.context;
      const inner = {left: r.left + parseFloat(cs.borderLeftWidth),
                     right: r.right - parseFloat(cs.borderRightWidth)};
      const b = {context: context, style: box.dataset.style, top: y(r.top), bottom: y(r.bottom),
                 left: r.left, right: r.right, scroll_width: box.scrollWidth,
                 client_width: box.clientWidth,
                 visible: r.width > 0 && r.height > 0 && cs.display !== "none" &&
                          cs.visibility === "visible" && parseFloat(cs.opacity) > 0 &&
                          r.left >= -SLACK && r.right <= window.innerWidth + SLACK};
      out.boxes.push(b);

      // Nothing wider than the box: its own overflow, then each element and
      // each run of text that sticks out of its left or right border.
      if (box.scrollWidth > box.clientWidth)
        out.overflows.push({context: context, what: "box",
                            detail: "scrollWidth " + box.scrollWidth + " > clientWidth " + box.clientWidth});
      const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      for (let t = walker.nextNode(); t; t = walker.nextNode()) {
        if (!t.data.trim()) continue;
        const out_of = rectsOf(t).filter(
          (x) => x.right > inner.right + SLACK || x.left < inner.left - SLACK);
        if (out_of.length)
          out.overflows.push({context: context, what: "text", detail: snippet(t.data),
                              right: Math.max(...out_of.map((x) => x.right)), box_right: inner.right});
      }
      for (const e of box.querySelectorAll("*")) {
        const x = e.getBoundingClientRect();
        if (rectsOf(e).length && (x.right > inner.right + SLACK || x.left < inner.left - SLACK))
          out.overflows.push({context: context, what: e.tagName.toLowerCase(),
                              detail: snippet(e.textContent), right: x.right, box_right: inner.right});
      }

      // Each section's heading (a bold line opening with one of the plugin's
      // emoji) starts a line of its own: nothing before it in its block, and
      // everything before it in the box ends above its top. A heading that
      // ran into the previous paragraph fails both.
      const headings = [];
      for (const s of box.querySelectorAll("strong")) {
        const text = s.textContent.trim();
        if (!MARKERS.some((m) => text.startsWith(m))) continue;
        const rects = rectsOf(s);
        const prev_bottom = bottomBefore(box, s, y(r.top));
        const block = blockOf(s);
        const h = {context: context, text: snippet(text), block: block.tagName.toLowerCase(),
                   visible: rects.length > 0,
                   top: rects.length ? y(rects[0].top) : null, prev_bottom: prev_bottom,
                   first_in_block: before(block, s).toString().trim() === ""};
        h.own_line = h.visible && h.first_in_block && h.top >= prev_bottom - SLACK;
        out.headings.push(h);
        headings.push({el: s, block: block, h: h, rects: rects});
        if (!h.own_line) out.misplaced_headings.push(h);
      }

      // Each job's link ("job 2 of 8") sits on its heading's line.
      for (const a of box.querySelectorAll("a")) {
        const m = a.textContent.trim().match(/^job (\\d+) of (\\d+)$/);
        if (!m) continue;
        const rects = rectsOf(a);
        const owner = headings.filter((k) => k.block === blockOf(a) &&
          k.el.compareDocumentPosition(a) & Node.DOCUMENT_POSITION_FOLLOWING).pop();
        const line = owner && owner.rects.length ? owner.rects[owner.rects.length - 1] : null;
        const l = {context: context, text: m[0], heading: owner ? owner.h.text : null,
                   on_heading_line: !!(line && rects.length && rects[0].top < line.bottom &&
                                       rects[0].bottom > line.top)};
        out.job_links.push(l);
        if (!l.on_heading_line) out.stray_job_links.push(l);
      }

      // The time box: one entry per job, whatever it is laid out as (a
      // <details>' <summary>, a paragraph, a table's row), in job order.
      if (context.endsWith("-time")) {
        const candidates = [...box.querySelectorAll("summary, p, li, tbody tr")].filter(
          (e) => /\\bjob \\d+ of \\d+\\b/.test(e.textContent));
        for (const e of candidates) {
          if (candidates.some((o) => o !== e && o.contains(e))) continue;  // the outermost only
          const m = e.textContent.match(/\\bjob (\\d+) of (\\d+)\\b/);
          const rects = rectsOf(e);
          out.time_entries.push({job: +m[1], of: +m[2], tag: e.tagName.toLowerCase(),
                                 visible: rects.length > 0,
                                 top: rects.length ? y(rects[0].top) : null,
                                 bottom: rects.length ? y(rects[rects.length - 1].bottom) : null});
        }
      }

      // Every :shortcode: became its emoji, folded parts included (a code
      // span's "file.py::test" is no shortcode: colons on both sides).
      for (const m of box.textContent.matchAll(/(?<![\\w:]):[a-z0-9_+-]+:(?![\\w:])/g))
        out.shortcodes.push({context: context, shortcode: m[0]});
    }

    // Boxes one under another: no two share a pixel.
    for (let i = 0; i < out.boxes.length; i++)
      for (let j = i + 1; j < out.boxes.length; j++) {
        const a = out.boxes[i], b = out.boxes[j];
        if (a.left < b.right - SLACK && b.left < a.right - SLACK &&
            a.top < b.bottom - SLACK && b.top < a.bottom - SLACK)
          out.overlaps.push(a.context + " / " + b.context);
      }
    return out;
  }

  window.addEventListener("load", function () {
    const pre = document.createElement("pre");
    pre.id = "tep-layout";
    pre.hidden = true;
    try {
      pre.textContent = JSON.stringify(measure());
    } catch (e) {  // said in the output, not lost in Chromium's console
      pre.textContent = JSON.stringify({error: String(e && e.stack || e)});
    }
    document.body.appendChild(pre);
  });
})();
"""


def layout(agent_dir, json_path, width, unfold):
    """Loads the page with PROBE in headless Chromium and writes what it
    measured to json_path. --dump-dom prints the DOM once the page has loaded
    (the probe's load handler has run by then); --virtual-time-budget lets
    anything the page still had queued finish first, on virtual time, so a
    slow machine changes how long this takes, not what it sees."""
    markers = sorted({e for c, e in EMOJI.items() if c != ":pytest:"})
    probe = "<script>%s</script></body>" % (PROBE % {"markers": json.dumps(markers)})
    text = page(agent_dir, unfold).replace("</body>", probe, 1)
    with tempfile.TemporaryDirectory(prefix="tep-chromium-") as profile:
        html_path = os.path.join(profile, "page.html")
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(text)
        # The height only sets the viewport: every box is measured, in view or not.
        cmd = chromium_command(os.path.join(profile, "profile"), width, 800)
        cmd += ["--virtual-time-budget=5000", "--dump-dom", "file://" + html_path]
        done = subprocess.run(cmd, capture_output=True, timeout=CHROMIUM_TIMEOUT)
    dom = done.stdout.decode("utf-8", "replace")
    found = re.search(r'<pre id="tep-layout"[^>]*>(.*?)</pre>', dom, re.S)
    if done.returncode != 0 or not found:
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        sys.exit("annotation_page.py: chromium exited %d without the page's layout" % done.returncode)
    facts = json.loads(html.unescape(found.group(1)))
    if "error" in facts:
        sys.exit("annotation_page.py: the layout probe failed: " + facts["error"])
    with open(json_path, "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent_dir")
    ap.add_argument("out_html")
    ap.add_argument("--screenshot")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--open", action="store_true")
    ap.add_argument("--layout", metavar="OUT.json")
    args = ap.parse_args()
    with open(args.out_html, "w", encoding="utf-8") as f:
        f.write(page(args.agent_dir, args.open))
    if args.screenshot:
        screenshot(args.out_html, args.screenshot, args.width)
    if args.layout:
        layout(args.agent_dir, args.layout, args.width, args.open)


if __name__ == "__main__":
    main()
