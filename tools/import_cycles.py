#!/usr/bin/env python3
"""Import circles between the crate's top-level modules.

Reads every `src/**/*.rs` (outside comments), takes each path that starts with
`crate::module::` (in `use` items and in code), maps it to the top-level module it names
(`crate::tape::word` -> `tape`), and prints every cycle of the graph "module A imports from
module B". A module and its submodules count as one. Exits 1 if there is a cycle.

With `--through-root`, a name re-exported at the crate root (`crate::Graph`, `crate::Var`)
counts as an import of the module that defines it: that graph also shows the types that
refer to each other by nature (a `Graph` hands out `Var`s, a `Var` points to its `Graph`).

    python3 tools/import_cycles.py [--through-root] [--dot]
"""
import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def top_module(path):
    rel = path.relative_to(SRC).with_suffix("")
    parts = rel.parts
    if parts == ("lib",):
        return "lib"
    return parts[0]


def code_only(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//")[0] for line in text.splitlines())


def root_exports():
    """Names re-exported at the crate root, and the module each comes from."""
    lib = code_only((SRC / "lib.rs").read_text())
    names = {}
    for m in re.finditer(r"pub use (\w+)::(?:\{([^}]*)\}|(\w+));", lib):
        module, group, single = m.group(1), m.group(2), m.group(3)
        for name in (group.split(",") if group else [single]):
            name = name.strip()
            if name:
                names[name.split(" as ")[-1].strip()] = module
    return names


def edges():
    exports = root_exports() if "--through-root" in sys.argv else {}
    modules = {top_module(p) for p in SRC.rglob("*.rs")}
    graph = {}
    for path in SRC.rglob("*.rs"):
        me = top_module(path)
        if me == "lib":
            continue
        text = code_only(path.read_text())
        used = set()
        for m in re.finditer(r"crate::(\w+)", text):
            used.add(m.group(1))
        for m in re.finditer(r"use crate::\{([^}]*)\}", text):
            used.update(n.strip().split("::")[0] for n in m.group(1).split(","))
        for name in used:
            target = name if name in modules else exports.get(name)
            if target and target != me:
                graph.setdefault(me, set()).add(target)
    return graph


def cycles(graph):
    found, seen = [], set()

    def walk(node, stack):
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    found.append(cycle + [nxt])
            elif len(stack) < 12:
                walk(nxt, stack + [nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def main():
    graph = edges()
    if "--dot" in sys.argv:
        print("digraph imports {")
        for a in sorted(graph):
            for b in sorted(graph[a]):
                print(f'  "{a}" -> "{b}";')
        print("}")
        return 0
    found = cycles(graph)
    for c in found:
        print("cycle: " + " -> ".join(c))
    print(f"{len(graph)} modules, {sum(len(v) for v in graph.values())} edges, {len(found)} cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
