#!/usr/bin/env python3
"""Checks the internal links of the guide (docs/*.md) and of README.md.

A relative link must name a file that exists; a link with a #fragment into
a page of the guide must name an id of the built page (target/book/PAGE.html,
so headings are slugged exactly as mdBook slugs them). Links to other
sites are not followed (no network). Run after `mdbook build docs`.
    python3 scripts/check_links.py
"""
import html.parser
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(ROOT, "docs")
BOOK = os.path.join(ROOT, "target", "book")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


class Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id" and v:
                self.ids.add(v)


_ids = {}


def ids_of(md_path):
    rel = os.path.relpath(md_path, DOCS)
    page = os.path.join(BOOK, os.path.splitext(rel)[0] + ".html")
    if page not in _ids:
        p = Ids()
        with open(page, encoding="utf-8") as f:
            p.feed(f.read())
        _ids[page] = p.ids
    return _ids[page]


def links(text):
    # code blocks and inline code are not links
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return LINK.findall(text)


def main():
    files = [os.path.join(ROOT, "README.md")]
    files += sorted(os.path.join(DOCS, f) for f in os.listdir(DOCS) if f.endswith(".md"))
    bad = []
    n = 0
    for src in files:
        with open(src, encoding="utf-8") as f:
            text = f.read()
        for target in links(text):
            if re.match(r"^[a-z]+:", target):
                continue
            n += 1
            path, _, frag = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(src), path)) if path else src
            where = os.path.relpath(src, ROOT)
            if not os.path.exists(dest):
                bad.append(f"{where}: {target}: no such file")
                continue
            if frag:
                if not (dest.startswith(DOCS + os.sep) and dest.endswith(".md")):
                    bad.append(f"{where}: {target}: a fragment outside the guide cannot be checked")
                elif frag not in ids_of(dest):
                    bad.append(f"{where}: {target}: no such heading")
    for b in bad:
        print("broken link:", b)
    if bad:
        sys.exit(1)
    print(f"links: {n} internal links in {len(files)} files, none broken")


main()
