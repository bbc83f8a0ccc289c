"""Merge the lab's two settings into a containers.conf without clobbering it.

Usage: python3 containers_conf.py [/etc/containers/containers.conf]

Sets ``[containers] default_ulimits = []`` and ``[engine] runtime = "runc"``
(shared/LAB.md: crun refuses cgroups v1 hybrid, and containers may not set
RLIMIT_NOFILE/RLIMIT_NPROC here). Every other table and key is kept as
written, comments included. A key that is already set is replaced in place
(multi-line arrays too); a missing key is added at the top of its table; a
missing table is appended. The result is parsed with tomllib before it is
written, the previous file is kept as ``<path>.orig`` once, and nothing is
written when nothing changes. Prints what it did.
"""
import os
import re
import sys
import tomllib

WANTED = {
    "containers": {"default_ulimits": "[]"},
    "engine": {"runtime": '"runc"'},
}
TABLE_RE = re.compile(r"^\s*\[([A-Za-z0-9_.\-]+)\]\s*(#.*)?$")
KEY_RE = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def merge(text):
    """Return ``text`` with WANTED applied (see module docstring)."""
    lines = text.splitlines()
    out = []
    table = None
    done = {t: set() for t in WANTED}
    skipping_array = False

    def flush_missing(tbl):
        if tbl in WANTED:
            for key, value in WANTED[tbl].items():
                if key not in done[tbl]:
                    out.append("%s = %s" % (key, value))
                    done[tbl].add(key)

    for line in lines:
        if skipping_array:
            if "]" in line.split("#", 1)[0]:
                skipping_array = False
            continue
        m = TABLE_RE.match(line)
        if m:
            table = m.group(1)
            out.append(line)
            flush_missing(table)
            continue
        k = KEY_RE.match(line)
        if k and table in WANTED and k.group(1) in WANTED[table]:
            value = line.split("=", 1)[1].split("#", 1)[0].strip()
            if value.startswith("[") and value.count("[") > value.count("]"):
                skipping_array = True
            # The key was already emitted when the table header was seen.
            continue
        out.append(line)
    for tbl in WANTED:
        if any(k not in done[tbl] for k in WANTED[tbl]):
            out.append("")
            out.append("[%s]" % tbl)
            flush_missing(tbl)
    return "\n".join(out) + "\n"


def main(argv):
    path = argv[1] if len(argv) > 1 else "/etc/containers/containers.conf"
    old = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = fh.read()
    new = merge(old)
    parsed = tomllib.loads(new)
    assert parsed["containers"]["default_ulimits"] == []
    assert parsed["engine"]["runtime"] == "runc"
    if new == old:
        print("    %s already has runtime=runc and default_ulimits=[]" % path)
        return 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if old and not os.path.exists(path + ".orig"):
        with open(path + ".orig", "w", encoding="utf-8") as fh:
            fh.write(old)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(new)
    os.replace(tmp, path)
    print("    %s updated%s" % (path, " (previous content in %s.orig)" % path if old else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
