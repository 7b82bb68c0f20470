#!/usr/bin/env python3
"""The include-layer test: every #include "..." in src/ must stay inside its
layer or point at a layer the table in src/layers.txt lets it include (the
same table CMake builds the layer libraries from).

usage: layers_test.py SRC_DIR [LAYERS_FILE]   (LAYERS_FILE defaults to SRC_DIR/layers.txt)
       layers_test.py --self-test LAYERS_FILE  (the checker catches what it must, on a made-up tree)
Exits 1 and lists every crossing include with file:line when one is found.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
SOURCE_EXT = ('.cpp', '.hpp', '.h', '.cc', '.inc')


def read_table(path):
    layers = {}  # name -> (folders, allowed)
    order = []
    temporary = {}  # (from, to) -> reason
    problems = []
    with open(path, encoding='utf-8') as f:
        for n, raw in enumerate(f, 1):
            line = raw.split('#', 1)[0].strip() if raw.lstrip().startswith('#') else raw.strip()
            if not line:
                continue
            cells = [c.strip() for c in line.split('|')]
            if cells[0] == 'temporary':
                if len(cells) != 4 or not cells[3]:
                    problems.append(f'{path}:{n}: temporary | from | to | removed by')
                    continue
                temporary[(cells[1], cells[2])] = cells[3]
                continue
            if len(cells) != 3:
                problems.append(f'{path}:{n}: expected "layer | folders | may include"')
                continue
            name, folders, allowed = cells[0], cells[1].split(), cells[2].split()
            for a in allowed:
                if a not in layers:
                    problems.append(f'{path}:{n}: {name} may include {a}, which is not a layer below it')
            layers[name] = (folders, set(allowed))
            order.append(name)
    for (a, b) in temporary:
        if a not in layers or b not in layers:
            problems.append(f'{path}: temporary edge {a} -> {b} names an unknown layer')
    return layers, order, temporary, problems


def layer_of(rel, folder_to_layer):
    # Longest folder prefix wins (engines/scan before a hypothetical engines).
    best = None
    for folder, layer in folder_to_layer.items():
        if rel == folder or rel.startswith(folder + '/'):
            if best is None or len(folder) > len(best[0]):
                best = (folder, layer)
    return best[1] if best else None


def check(src, table):
    """Every problem with the includes under src against the table, one line each."""
    layers, order, temporary, problems = read_table(table)
    folder_to_layer = {f: name for name, (folders, _) in layers.items() for f in folders}
    used_temporary = set()
    files = 0
    for root, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith(SOURCE_EXT):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)
            files += 1
            here = layer_of(rel, folder_to_layer)
            if here is None:
                problems.append(f'{rel}: in no layer (add its folder to {table})')
                continue
            with open(path, encoding='utf-8', errors='replace') as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if not os.path.exists(os.path.join(src, target)):
                        problems.append(f'{rel}:{n}: #include "{target}" is not a path under src/ '
                                        '(write project includes from src/)')
                        continue
                    there = layer_of(target, folder_to_layer)
                    if there is None:
                        problems.append(f'{rel}:{n}: #include "{target}" is in no layer')
                    elif there == here or there in layers[here][1]:
                        continue
                    elif (here, there) in temporary:
                        used_temporary.add((here, there))
                    else:
                        problems.append(f'{rel}:{n}: {here} may not include {there} ("{target}")')
    for edge in sorted(set(temporary) - used_temporary):
        problems.append(f'{table}: temporary edge {edge[0]} -> {edge[1]} is no longer used; remove it')
    if files == 0:
        problems.append(f'{src}: no source files')
    return problems, f'{files} files, {len(layers)} layers, {len(used_temporary)} temporary edges in use'


def self_test(table):
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        def write(rel, text):
            os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), 'w', encoding='utf-8') as f:
                f.write(text)
        write('layers.txt', 'core | core |\nmodel | model | core\nreport | report | core model\n'
              'temporary | model | report | a change\n')
        write('core/a.hpp', '#include "core/b.hpp"\n#include <vector>\n')
        write('core/b.hpp', '#include "model/m.hpp"\n')             # up: forbidden
        write('model/m.hpp', '#include "core/a.hpp"\n')
        write('report/r.cpp', '#include "model/m.hpp"\n#include "core/a.hpp"\n#include "b.hpp"\n')
        write('stray/s.cpp', '// in no layer\n')
        problems, _ = check(tmp, os.path.join(tmp, 'layers.txt'))
        expected = ['core/b.hpp:1: core may not include model',
                    'report/r.cpp:3: #include "b.hpp" is not a path under src/',
                    'stray/s.cpp: in no layer',
                    'temporary edge model -> report is no longer used']
        missing = [e for e in expected if not any(e in p for p in problems)]
        for p in problems:
            print('found:', p)
        if missing or len(problems) != len(expected):
            print('self-test FAIL; missing:', missing)
            return 1
    # The real table parses and draws only downward lines.
    _, _, _, table_problems = read_table(table)
    for p in table_problems:
        print(p)
    print('self-test ' + ('FAIL' if table_problems else 'ok'))
    return 1 if table_problems else 0


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    if sys.argv[1] == '--self-test':
        return self_test(sys.argv[2])
    src = os.path.abspath(sys.argv[1])
    table = sys.argv[2] if len(sys.argv) > 2 else os.path.join(src, 'layers.txt')
    problems, summary = check(src, table)
    for p in problems:
        print(p)
    print(summary + ': ' + ('FAIL' if problems else 'ok'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
