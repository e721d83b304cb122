#!/usr/bin/python3 -I
"""The build page's annotations as a team sees them, for tests and the demo.

Reads the stub agent's build-scoped annotations (AGENT_DIR/annotations/<context>.md,
.style, .priority), renders each body with cmark-gfm (CommonMark + GitHub's
extensions, what Buildkite renders annotations with; raw HTML kept, as Buildkite
keeps its safe subset), turns the emoji shortcodes the plugin uses into emoji,
and lays the boxes out as a build page does: highest priority first, then in the
order the contexts were created, one coloured box per context.

  annotation_page.py AGENT_DIR OUT.html [--screenshot OUT.png] [--width 1000] [--open]

--screenshot loads the page in headless Chromium (Debian's `chromium`) and
saves what it shows, as tall as the page is (measured with --dump-dom's
layout is not possible headless, so the height is estimated from the text);
--open unfolds every <details>, to look at what a click shows. Exits 1 when
cmark-gfm or Chromium fails.
"""
import argparse
import html
import os
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
    import re
    text = re.sub(r"<(p|li|h\d|summary|tr|pre)[ >]", "\n\\g<0>", html_text)
    text = re.sub(r"<[^>]+>", "", text)
    chars_per_line = max(40, (width - 80) // 8)
    lines = sum(1 + len(line) // chars_per_line for line in text.splitlines() if line.strip())
    return min(16000, 200 + lines * 24 + html_text.count("class='box'") * 40)


def screenshot(html_path, png_path, width):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("annotation_page.py: chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="tep-chromium-") as profile:
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile,
               "--window-size=%d,%d" % (width, page_height(open(html_path).read(), width)), "--screenshot=" + os.path.abspath(png_path),
               "file://" + os.path.abspath(html_path)]
        done = subprocess.run(cmd, capture_output=True, timeout=120)
    if done.returncode != 0 or not os.path.exists(png_path):
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        sys.exit("annotation_page.py: chromium exited %d without a screenshot" % done.returncode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("agent_dir")
    ap.add_argument("out_html")
    ap.add_argument("--screenshot")
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--open", action="store_true")
    args = ap.parse_args()
    with open(args.out_html, "w", encoding="utf-8") as f:
        f.write(page(args.agent_dir, args.open))
    if args.screenshot:
        screenshot(args.out_html, args.screenshot, args.width)


if __name__ == "__main__":
    main()
