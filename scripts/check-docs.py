#!/usr/bin/env python3
"""Checks the relative links of README.md and the book (docs/src/*.md).

Every markdown link or image whose target is a relative path (http(s), mailto and other
schemes are skipped) must name an existing file or folder, relative to the file that holds
the link. A link into a markdown file with a fragment (`file.md#anchor`, or `#anchor` for
the same file) must also name a heading of that file, by GitHub's slug rule: lower case,
punctuation other than '-' and '_' dropped, spaces turned into '-', and a repeated slug
suffixed -1, -2, ... Every chapter in docs/src must also be listed in SUMMARY.md, or the
book would leave it out.

Usage: scripts/check-docs.py  (from anywhere; exit 1 and a list when anything is broken).
Standard library only.
"""

import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
BOOK_SRC = ROOT / "docs" / "src"

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") and ![alt](target); the text may hold one level of brackets.
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^()\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s[^>]*\b(?:name|id)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def prose_lines(text):
    """(line number, line) for every line outside fenced code blocks."""
    fence = None
    for number, line in enumerate(text.splitlines(), start=1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * 3
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        yield number, line


def slug(heading):
    """GitHub's anchor for a heading's markdown source."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "-_ " or cat[0] in "LNM":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


_anchor_cache = {}


def anchors(path):
    if path not in _anchor_cache:
        found, seen = set(), {}
        text = path.read_text(encoding="utf-8")
        for _, line in prose_lines(text):
            m = ATX_HEADING.match(line)
            if m:
                base = slug(m.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
            for name in HTML_ANCHOR.findall(line):
                found.add(name)
        _anchor_cache[path] = found
    return _anchor_cache[path]


def links(path):
    """(line number, target) for every link in a markdown file's prose."""
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        m = REFERENCE_DEF.match(line)
        if m:
            yield number, m.group(1)
            continue
        bare = CODE_SPAN.sub("code", line)
        for m in INLINE_LINK.finditer(bare):
            yield number, m.group(1)


def check(path):
    problems = []
    for number, target in links(path):
        target = target.strip("<>")
        if not target or SCHEME.match(target) or target.startswith("//"):
            continue
        where, _, fragment = target.partition("#")
        where = unquote(where)
        dest = (path.parent / where).resolve() if where else path
        shown = f"{path.relative_to(ROOT)}:{number}: {target}"
        if not dest.exists():
            problems.append(f"{shown}: no such file or folder")
            continue
        if fragment and dest.is_file() and dest.suffix.lower() == ".md":
            if unquote(fragment) not in anchors(dest):
                problems.append(f"{shown}: no heading with anchor #{fragment} in {dest.relative_to(ROOT)}")
    return problems


def main():
    files = [ROOT / "README.md"] + sorted(BOOK_SRC.glob("*.md"))
    problems = []
    for path in files:
        if path.exists():
            problems.extend(check(path))
        else:
            problems.append(f"{path.relative_to(ROOT)}: missing")

    summary = BOOK_SRC / "SUMMARY.md"
    if summary.exists():
        listed = {(BOOK_SRC / unquote(t.partition("#")[0])).resolve() for _, t in links(summary)}
        for chapter in sorted(BOOK_SRC.glob("*.md")):
            if chapter.name != "SUMMARY.md" and chapter.resolve() not in listed:
                problems.append(f"{chapter.relative_to(ROOT)}: not listed in docs/src/SUMMARY.md")

    if problems:
        print(f"check-docs: {len(problems)} broken link(s) or chapter(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(f"check-docs: {len(files)} files, every relative link resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
