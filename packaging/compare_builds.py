"""Compare two bundle builds file by file: the reproducibility check run before signing.

    python packaging/compare_builds.py BUILD_A BUILD_B [--allow PATTERN ...]

Prints how many files are identical, every file that is only in one build, and every file
whose bytes (or symlink target, or executable bit) differ. Exit 0 when the builds are
identical apart from files matching an ``--allow`` glob (each one printed, never hidden),
1 otherwise. Plain standard library: it runs before any Hearth code.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import os
import sys
from pathlib import Path


def fingerprint(root: Path) -> dict[str, str]:
    """Relative path -> "sha256 mode" (or "-> target" for a symlink), for every file."""
    result: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                result[rel] = f"-> {os.readlink(path)}"
                continue
            digest = hashlib.sha256()
            with path.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
            executable = "x" if os.access(path, os.X_OK) else "-"
            result[rel] = f"{digest.hexdigest()} {executable}"
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument(
        "--allow",
        action="append",
        default=[],
        help="glob of a file known to differ (reported, not counted)",
    )
    args = parser.parse_args(argv)
    a, b = fingerprint(args.a), fingerprint(args.b)
    only_a = sorted(set(a) - set(b))
    only_b = sorted(set(b) - set(a))
    differ = sorted(p for p in set(a) & set(b) if a[p] != b[p])
    same = len(set(a) & set(b)) - len(differ)
    allowed = [p for p in differ if any(fnmatch.fnmatch(p, g) for g in args.allow)]
    print(f"compared {args.a} and {args.b}: {len(a)} and {len(b)} files, {same} identical")
    for p in only_a:
        print(f"  only in A: {p}")
    for p in only_b:
        print(f"  only in B: {p}")
    for p in differ:
        note = "  (known, allowed)" if p in allowed else ""
        print(f"  differs:   {p}{note}")
    failing = len(only_a) + len(only_b) + len(differ) - len(allowed)
    if failing:
        print(f"NOT reproducible: {failing} difference(s)")
        return 1
    print(
        "reproducible"
        + (f" apart from {len(allowed)} known file(s)" if allowed else ": bit-identical")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
