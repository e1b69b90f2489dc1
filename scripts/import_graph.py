#!/usr/bin/env python3
"""Import circles and layer breaks among the library's modules (src/, the
bin excluded).

Each .rs file is a module (mod.rs is its folder's). A reference
`crate::a::b::c` (in a `use` or in code) names the longest module path that
exists; `super::x` and `self::x` are resolved the same way. A parent's use of its
own child counts like any other (declaring `mod child;` does not). The
crate root (lib.rs) is not a node. A re-export kept for one release
where a module moved (`pub use ...; // compat`) is not counted either.
Prints every circle (a strongly connected component of more than one
module) and every import its layer does not allow (ALLOWED below, drawn in
docs/ARCHITECTURE.md), and exits 1 if there is one.
    python3 scripts/import_graph.py [--edges]
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def modules():
    mods = {}
    for d, _, files in os.walk(ROOT):
        rel = os.path.relpath(d, ROOT)
        if rel.startswith("bin"):
            continue
        parts = [] if rel == "." else rel.split(os.sep)
        for f in files:
            if not f.endswith(".rs"):
                continue
            if f in ("lib.rs",) and not parts:
                path = ()
            elif f == "mod.rs":
                path = tuple(parts)
            else:
                path = tuple(parts + [f[:-3]])
            mods[path] = os.path.join(d, f)
    return mods


def strip_comments(src):
    # a re-export kept for one release where a module moved
    # (`pub use ...; // compat`) is not an import of the module's own code
    src = re.sub(r"pub use [^;]*;[ \t]*// compat[^\n]*", "", src)
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    return "\n".join(line.split("//")[0] for line in src.splitlines())


def refs(path, text, mods):
    out = set()
    # expand `use crate::{a, b::c}` one level of braces
    for m in re.finditer(r"\b(crate|super|self)((?:::\w+)+)(::\{([^{}]*)\})?", text):
        head, tail, _, brace = m.group(1), m.group(2), m.group(3), m.group(4)
        base = [s for s in tail.split("::") if s]
        if head == "crate":
            start = []
        elif head == "super":
            start = list(path[:-1])
            while base and base[0] == "super":
                base.pop(0)
                start = start[:-1]
        else:
            start = list(path)
        tails = [base]
        if brace:
            tails = [base + [s for s in b.strip().split("::") if s] for b in brace.split(",") if b.strip()]
        for t in tails:
            full = start + t
            for n in range(len(full), -1, -1):
                cand = tuple(full[:n])
                if cand in mods:
                    out.add(cand)
                    break
    out.discard(path)
    return out - {()}


def sccs(graph):
    index, low, stack, on, res, i = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = i[0]
        i[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            res.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return res


# What each top-level module (a folder or a file of src/) may import, as
# docs/ARCHITECTURE.md draws it. Lower layers first; a module may always
# import within itself.
ALLOWED = {
    "error": set(),
    "prompts": set(),
    "rng": {"error"},
    "webhook": {"error"},
    "runtime": {"error"},
    "imaging": {"error"},
    "face": {"error", "runtime", "imaging"},
    "matching": {"error", "runtime", "imaging", "face"},
    "liveness": {"error", "runtime", "imaging", "face", "matching", "prompts"},
    "config": {"error", "runtime", "imaging", "face", "matching"},
    "engine": {"error", "runtime", "imaging", "face", "matching", "liveness", "config"},
    "source": {"error", "imaging"},
    "session": {"error", "runtime", "imaging", "face", "matching", "liveness", "config",
                "engine", "source", "prompts", "rng"},
    "eval": {"error", "runtime", "imaging", "face", "matching", "liveness", "config",
             "engine", "source", "prompts", "rng", "session"},
    "ffi": {"error", "runtime", "imaging", "face", "matching", "liveness", "config",
            "engine", "source", "prompts", "rng", "session"},
}


def main():
    mods = modules()
    graph = {}
    for path, file in mods.items():
        if path == ():
            continue
        with open(file, encoding="utf-8") as f:
            graph[path] = refs(path, strip_comments(f.read()), mods)
    name = lambda p: "/".join(p)
    if "--edges" in sys.argv:
        for v in sorted(graph):
            print(name(v), "->", ", ".join(sorted(name(w) for w in graph[v])))
    circles = [sorted(c) for c in sccs(graph) if len(c) > 1]
    for c in circles:
        print("circle:", " <-> ".join(name(v) for v in c))
    layer_breaks = []
    for v in sorted(graph):
        allowed = ALLOWED.get(v[0])
        if allowed is None:
            layer_breaks.append(f"{name(v)}: its folder has no rule in ALLOWED")
            continue
        for w in sorted(graph[v]):
            if w[0] != v[0] and w[0] not in allowed:
                layer_breaks.append(f"{name(v)} imports {name(w)}")
    for b in layer_breaks:
        print("layer broken:", b)
    if circles or layer_breaks:
        sys.exit(1)
    print(f"no import circle among {len(graph)} modules; every import follows the layers")


main()
