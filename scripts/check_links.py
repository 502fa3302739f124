"""Every link of the book and the README resolves: files exist, anchors are headings.

    python3 scripts/check_links.py README.md docs

Relative links are checked against the file system (from the page's own directory) and,
with a `#fragment`, against the target page's headings as mdBook and GitHub slug them.
A page of the book (under docs/) may not link outside docs/: mdBook copies only docs/, so
such a link is broken in the built book; name the file in code instead. http(s) links are
not fetched (nothing is downloaded). Exit 1 with one line per broken link, `file:line`.
"""
import os
import re
import sys

LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def slug(heading):
    s = heading.strip().lower()
    s = re.sub(r"<[^>]+>", "", s)
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def headings(path):
    out, fenced = set(), False
    for line in open(path, encoding="utf-8"):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            s = slug(line.lstrip("#"))
            n = 1
            base = s
            while s in out:
                s = f"{base}-{n}"
                n += 1
            out.add(s)
    return out


def links(path):
    fenced = False
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            continue
        line = re.sub(r"`[^`]*`", "", line)  # inline code is not a link
        for m in LINK.finditer(line):
            yield n, m.group(1) or m.group(2)


def check(page, docs_root):
    problems = []
    for n, target in links(page):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(page), file)) if file else page
        where = f"{page}:{n}: {target}"
        if not os.path.exists(dest):
            problems.append(f"{where}: no such file {dest}")
            continue
        if docs_root and os.path.abspath(page).startswith(docs_root + os.sep) and not os.path.abspath(dest).startswith(docs_root + os.sep):
            problems.append(f"{where}: leaves docs/, so it breaks in the built book; name the file in `code` instead")
            continue
        if frag and dest.endswith(".md") and frag not in headings(dest):
            problems.append(f"{where}: {os.path.relpath(dest)} has no heading #{frag}")
    return problems


def main(args):
    if not args:
        sys.exit(__doc__)
    docs_root = os.path.abspath("docs")
    pages = []
    for a in args:
        if os.path.isdir(a):
            pages += sorted(os.path.join(d, f) for d, _, fs in os.walk(a) for f in fs if f.endswith(".md"))
        else:
            pages.append(a)
    problems = [p for page in pages for p in check(page, docs_root)]
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(pages)} pages, {sum(1 for page in pages for _ in links(page))} links, {len(problems)} broken", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main(sys.argv[1:])
