"""The server core includes no engine: nothing under src/server/ may include
engines/, catalog/, checks/, config/, sources/ or cli/ headers (the
admission webhook's own parts live in engines/admit/admission_handler).

Usage: no_engine_include_test.py SOURCE_DIR"""

import os
import re
import sys

FORBIDDEN = ("engines/", "catalog/", "checks/", "config/", "sources/", "cli/")


def main():
    server = os.path.join(sys.argv[1], "src", "server")
    bad = []
    count = 0
    for name in sorted(os.listdir(server)):
        if not name.endswith((".hpp", ".cpp")):
            continue
        count += 1
        with open(os.path.join(server, name)) as f:
            for n, line in enumerate(f, 1):
                m = re.match(r'\s*#\s*include\s*"([^"]+)"', line)
                if m and m.group(1).startswith(FORBIDDEN):
                    bad.append("src/server/%s:%d: includes %s" % (name, n, m.group(1)))
    if count < 3:
        print("expected the server core's files in %s, found %d" % (server, count))
        return 1
    for b in bad:
        print(b)
    print("%d files checked, %d forbidden includes" % (count, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
