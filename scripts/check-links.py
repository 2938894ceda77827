#!/usr/bin/env python3
"""Every relative link in the tracked Markdown files resolves: the file (or folder) exists and,
for a `#anchor` into a Markdown file, a heading of that file has that anchor under GitHub's
rules. Links with a scheme (https:, mailto:) are not fetched. Standard library only.

    python3 scripts/check-links.py            # from anywhere in the repository; exit 1 on a dead link
"""

import re
import subprocess
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(
    subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent,
    ).stdout.strip()
)

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# [text](target "title") — text may hold one level of brackets (`[![img](a)](b)` aside).
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^()\s>]*(?:\([^()\s]*\)[^()\s>]*)*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:name|id)=\"([^\"]+)\"", re.IGNORECASE)


def prose_lines(text):
    """The lines outside fenced code blocks, with their 1-based numbers."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        opened = FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(1)
            continue
        yield number, line


def slug(heading):
    """GitHub's anchor for a heading (github-slugger): the rendered text lower-cased, every
    character but letters, digits, marks, `_`, `-` and spaces dropped, spaces made hyphens."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links and images: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(\*+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis markers
    kept = []
    for char in text.lower():
        category = unicodedata.category(char)
        if char in "-_ " or category[0] in "LNM":
            kept.append(char)
    return "".join(kept).replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        found = set()
        for _, line in prose_lines(path.read_text(encoding="utf-8")):
            for name in HTML_ANCHOR.findall(line):
                found.add(name)
            heading = HEADING.match(line)
            if not heading:
                continue
            base = slug(heading.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        cache[path] = found
    return cache[path]


def links(text):
    # A reference definition cannot interrupt a paragraph (CommonMark 4.7): it follows a blank
    # line, a heading, a fence or another definition.
    may_define = True
    for number, line in prose_lines(text):
        definition = REFERENCE_DEF.match(line) if may_define else None
        may_define = not line.strip() or bool(definition) or bool(HEADING.match(line))
        if definition:
            yield number, definition.group(1)
            continue
        for match in INLINE_LINK.finditer(CODE_SPAN.sub("", line)):
            yield number, match.group(1)


def problem(source, target):
    """Why `target`, linked from `source`, does not resolve; None when it does."""
    if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
        return None
    target = target.split("?", 1)[0]
    file_part, _, anchor = target.partition("#")
    if file_part.startswith("/"):
        resolved = ROOT / unquote(file_part).lstrip("/")
    elif file_part:
        resolved = (source.parent / unquote(file_part)).resolve()
    else:
        resolved = source
    if not resolved.exists():
        return "no such file"
    try:
        resolved.relative_to(ROOT)
    except ValueError:
        return "outside the repository"
    if anchor and resolved.suffix.lower() == ".md" and unquote(anchor) not in anchors(resolved):
        return f"no heading with anchor #{anchor} in {resolved.relative_to(ROOT)}"
    return None


def main():
    files = subprocess.run(
        ["git", "ls-files", "*.md"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    dead = 0
    checked = 0
    for name in files:
        source = ROOT / name
        for number, target in links(source.read_text(encoding="utf-8")):
            checked += 1
            why = problem(source, target)
            if why:
                dead += 1
                print(f"{name}:{number}: {target}: {why}")
    print(f"{checked} links in {len(files)} Markdown files, {dead} dead")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
