"""A retrieval test collection for Hearth's benchmarks, built from real public text.

    .venv/bin/python benchmarks/_corpus.py [--cache DIR] [--max-queries N]

**This is a fallback: a known-item collection, not a test collection with human relevance
judgments.** No package on the registries this project may reach (PyPI, npm, Debian) ships a
classic IR collection (documents + queries + qrels: Cranfield, CACM, Vaswani/NPL, CISI,
Medline, SciFact, NFCorpus, TREC-COVID, MS MARCO samples...) together with its documents.
Some wheels carry topics and qrels without the documents (pyserini's Anserini jar up to 0.2x:
``topics-and-qrels/``), others document ids without text (lsr-benchmark) or retrieved
passages without judgments (ir-axioms); the rest download their data from hosts that are not
reachable here. So the collection is made from the Linux man-pages project, as Debian
packages it:

- Source: the Debian packages ``manpages`` and ``manpages-dev`` (Linux man-pages project,
  upstream https://www.kernel.org/pub/linux/docs/man-pages/; 6.03-2 on Debian 12), fetched
  with ``apt-get download`` (the Debian archive is a package registry this project may use).
  The ``.deb`` files are read with the standard library (``ar`` + ``tarfile``); ``dpkg-deb``
  is used only for a compression ``tarfile`` cannot read (zstd, as Ubuntu builds them).
- License: free, per page (each page's ``SPDX-License-Identifier``; in 6.03: 641
  Linux-man-pages-copyleft, which permits copying and distributing verbatim or modified
  copies with the notice kept; 343 GPL-1.0/2.0-or-later or 2.0-only; 57 BSD; 1 MIT); see
  ``/usr/share/doc/manpages/copyright`` inside the package. Nothing is redistributed by
  Hearth: the pages are fetched into a cache at run time.
- Documents: one per man page (``.so`` alias pages are skipped): the roff source turned into
  plain text, title ``name(section)`` prepended, **the NAME section removed**.
- Queries: the one-line description from each page's NAME section (the ``whatis`` text after
  ``\\-``, e.g. "open and possibly create a file"), without the names before it.
- Relevant: the page(s) that description came from. Pages that share a description exactly
  (after case and spacing are folded) form one query with several relevant documents.

Caveats: each query has one (rarely a few) relevant documents, so measure it as known-item
search (MRR, recall@k), not as graded ad-hoc retrieval; the description's words often appear
again in the page's DESCRIPTION, so lexical methods have it easier than with real user
queries.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("manpages", "manpages-dev")
DEFAULT_CACHE = Path.home() / ".cache" / "hearth-bench"
FOLDER_NAME = "linux-man-pages"


@dataclass(frozen=True)
class Collection:
    """A retrieval collection: documents, queries and which documents answer each query."""

    name: str
    source: str
    documents: dict[str, str]  # doc id -> text (title prepended)
    queries: dict[str, str]  # query id -> text
    relevant: dict[str, set[str]]  # query id -> relevant doc ids


# --- fetching ---------------------------------------------------------------------------


def _debs(folder: Path) -> dict[str, Path]:
    """The newest ``.deb`` of each package in ``PACKAGES`` found in ``folder``."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        candidates = sorted(folder.glob(f"{package}_*.deb"))
        if candidates:
            found[package] = candidates[-1]
    return found


def fetch(cache_dir: Path) -> Path:
    """Put the ``manpages`` and ``manpages-dev`` ``.deb`` files in ``cache_dir/linux-man-pages``.

    Uses ``apt-get download`` (no root needed, nothing installed; it reads the apt lists, so
    run ``apt-get update`` once on a fresh machine). Does nothing when both files are already
    there. Returns the folder.
    """
    folder = cache_dir / FOLDER_NAME
    have = _debs(folder) if folder.is_dir() else {}
    if len(have) == len(PACKAGES):
        print(f"corpus: cached in {folder}: {', '.join(p.name for p in have.values())}")
        return folder
    if shutil.which("apt-get") is None:
        raise RuntimeError(
            "corpus: apt-get is not available; put the Debian packages "
            f"{' and '.join(PACKAGES)} (.deb) in {folder} by hand"
        )
    missing = [package for package in PACKAGES if package not in have]
    folder.mkdir(parents=True, exist_ok=True)
    command = ["apt-get", "download", *missing]
    print(f"corpus: {shlex.join(command)}  (into {folder})")
    # Download into a scratch folder beside the cache, so an interrupted download never
    # leaves a partial .deb where the check above would take it as complete.
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as scratch:
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"corpus: {shlex.join(command)} failed ({done.returncode}): "
                f"{done.stderr.strip()} -- on a fresh machine run 'apt-get update' first"
            )
        for deb in Path(scratch).glob("*.deb"):
            deb.replace(folder / deb.name)
    have = _debs(folder)
    if len(have) != len(PACKAGES):
        raise RuntimeError(f"corpus: apt-get download left no .deb for {missing} in {folder}")
    print(f"corpus: fetched {', '.join(p.name for p in have.values())}")
    return folder


# --- reading .deb files -----------------------------------------------------------------


def _deb_data_tar(deb: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` member of a ``.deb`` (an ``ar`` archive), opened."""
    raw = deb.read_bytes()
    if not raw.startswith(b"!<arch>\n"):
        raise ValueError(f"{deb} is not a .deb (ar) archive")
    offset = 8
    while offset + 60 <= len(raw):
        header = raw[offset : offset + 60]
        name = header[:16].decode("ascii").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        body = raw[offset + 60 : offset + 60 + size]
        offset += 60 + size + (size % 2)
        if not name.startswith("data.tar"):
            continue
        if name.endswith((".xz", ".gz", ".bz2")) or name == "data.tar":
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        # zstd (Ubuntu) and anything else: let dpkg-deb decompress it.
        tar_bytes = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True
        ).stdout
        return tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:")
    raise ValueError(f"{deb} has no data.tar member")


def _man_pages(deb: Path) -> Iterator[tuple[str, str]]:
    """(doc id, roff source) for each regular man page in a ``.deb``; aliases are skipped."""
    with _deb_data_tar(deb) as tar:
        for member in tar:
            if not member.isfile():
                continue  # symlinked aliases
            match = re.search(r"/share/man/man[^/]+/([^/]+)\.gz$", member.name)
            if match is None:
                continue
            handle = tar.extractfile(member)
            if handle is None:
                continue
            source = gzip.decompress(handle.read()).decode("utf-8", errors="replace")
            if source.lstrip().startswith(".so "):
                continue  # ".so man3/other.3": an alias page with no text of its own
            yield match.group(1), source


# --- roff to text -----------------------------------------------------------------------

_SPECIAL = {
    "aq": "'",
    "dq": '"',
    "lq": '"',
    "rq": '"',
    "oq": "'",
    "cq": "'",
    "em": " - ",
    "en": "-",
    "hy": "-",
    "mi": "-",
    "bu": "*",
    "co": "(c)",
    "rg": "(R)",
    "mu": "x",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "ga": "`",
    "ul": "_",
    "pl": "+",
    "eq": "=",
    "<=": "<=",
    ">=": ">=",
    "->": "->",
    "<-": "<-",
}
_ESCAPES = re.compile(
    r"\\(?:"
    r"f(?:\(..|\[[^\]]*\]|.)"  # font changes
    r"|\*(?:\(..|\[[^\]]*\]|.)"  # string registers
    r"|\((?P<two>..)"  # special character \(xx
    r"|\[(?P<long>[^\]]*)\]"  # special character \[name]
    r"|s[+-]?\d+"  # point size
    r"|[&|^%:,/c]"  # zero-width
    r"|[ ~0]"  # unbreakable spaces
    r"|(?P<other>.)"
    r")"
)
# Macros whose arguments are text; the alternating-font ones join their arguments.
_JOINED = {"BR", "BI", "IB", "IR", "RB", "RI"}
_SPACED = {"B", "I", "SM", "SB", "SH", "SS", "IP", "TQ", "OP"}


def _unescape(text: str) -> str:
    """Plain text for one line of roff with its escapes."""

    def replace(match: re.Match[str]) -> str:
        name = match.group("two") or match.group("long")
        if name is not None:
            return _SPECIAL.get(name, " ")
        other = match.group("other")
        if other is None:
            return ""
        return {"-": "-", "e": "\\", '"': "", "\\": "\\"}.get(other, other)

    text = re.sub(r'\\".*$', "", text)  # comment to end of line
    return _ESCAPES.sub(replace, text)


def _macro_args(rest: str) -> list[str]:
    """A macro's arguments: split on spaces, double quotes group (``""`` is a quote)."""
    args: list[str] = []
    for match in re.finditer(r'"((?:[^"]|"")*)"?|(\S+)', rest):
        quoted, bare = match.groups()
        args.append(quoted.replace('""', '"') if quoted is not None else bare)
    return args


def _roff_to_text(lines: list[str]) -> str:
    """Plain text of man(7) roff source lines (requests dropped, text kept)."""
    out: list[str] = []
    table = ""  # "" outside a table, "format" before its format line ends, "body" after
    for raw in lines:
        line = raw
        if line.startswith(('.\\"', "'\\\"", '\\"')):
            continue
        if line.startswith((".", "'")):
            parts = line[1:].strip().split(None, 1)
            macro = parts[0] if parts else ""
            rest = parts[1] if len(parts) > 1 else ""
            if macro == "TS":
                table = "format"
            elif macro == "TE":
                table = ""
            elif macro in _JOINED:
                out.append("".join(_unescape(arg) for arg in _macro_args(rest)))
            elif macro in _SPACED:
                out.append(" ".join(_unescape(arg) for arg in _macro_args(rest)))
            continue
        if table == "format":
            if line.rstrip().endswith("."):
                table = "body"
            continue
        if table == "body":
            if line.strip() in {"_", "=", "T{", "T}"}:
                continue
            line = line.replace("T{", " ").replace("T}", " ").replace("\t", " ")
        out.append(_unescape(line))
    text = "\n".join(piece.rstrip() for piece in out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _parse_page(source: str) -> tuple[str, str, str] | None:
    """(title, description, body without NAME) of a man page, or None without a NAME line."""
    lines = re.sub(r"\\\n", "", source).splitlines()  # join continued lines
    title = ""
    name_lines: list[str] = []
    body_lines: list[str] = []
    section = ""
    for line in lines:
        heading = re.match(r"\.SH\s+\"?([^\"]*)\"?\s*$", line)
        if heading:
            section = heading.group(1).strip().upper()
        elif line.startswith(".TH "):
            args = _macro_args(line[4:])
            if len(args) >= 2:
                title = f"{_unescape(args[0])}({_unescape(args[1])})"
            continue
        (name_lines if section == "NAME" else body_lines).append(line)
    raw_name = " ".join(line for line in name_lines if not line.startswith((".", "'"))).strip()
    if not raw_name:
        return None
    # "open, openat, creat \- open and possibly create a file"
    names, dash, description = raw_name.partition("\\-")
    if not dash:
        names, dash, description = raw_name.partition(" - ")
    description = re.sub(r"\s+", " ", _roff_to_text([description])).strip()
    if not dash or not description:
        return None
    body = _roff_to_text(body_lines)
    return title or _roff_to_text([names]), description, body


# --- loading ----------------------------------------------------------------------------


def _stable_order(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load(folder: Path, max_queries: int | None = None) -> Collection:
    """Read the collection from the ``.deb`` files that ``fetch`` put in ``folder``.

    ``max_queries`` keeps that many queries, a fixed spread over all of them (ordered by a
    hash of the query id, so the same N each time); the documents are always all the pages.
    """
    debs = _debs(folder)
    missing = [package for package in PACKAGES if package not in debs]
    if missing:
        raise FileNotFoundError(f"no .deb for {missing} in {folder}; call fetch() first")
    documents: dict[str, str] = {}
    by_description: dict[str, tuple[str, set[str]]] = {}
    for package in PACKAGES:
        for doc_id, source in _man_pages(debs[package]):
            parsed = _parse_page(source)
            if parsed is None or doc_id in documents:
                continue
            title, description, body = parsed
            if len(body.split()) < 20:
                continue
            documents[doc_id] = f"{title}\n{body}"
            key = description.casefold()
            if key not in by_description:
                by_description[key] = (description, set())
            by_description[key][1].add(doc_id)
    queries: dict[str, str] = {}
    relevant: dict[str, set[str]] = {}
    for description, doc_ids in by_description.values():
        query_id = f"q:{min(doc_ids)}"
        queries[query_id] = description
        relevant[query_id] = doc_ids
    if max_queries is not None:
        keep = sorted(queries, key=_stable_order)[:max_queries]
        queries = {query_id: queries[query_id] for query_id in sorted(keep)}
        relevant = {query_id: relevant[query_id] for query_id in queries}
    versions = ", ".join(path.name.removesuffix(".deb") for path in debs.values())
    return Collection(
        name="linux-man-pages-known-item",
        source=(
            f"Debian packages {versions} (Linux man-pages project), fetched with apt-get "
            "download; known-item fallback: query = a page's NAME description, relevant = "
            "that page (NAME section removed from the document)"
        ),
        documents=documents,
        queries=queries,
        relevant=relevant,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Fetch the collection and print its sizes.")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="cache folder")
    parser.add_argument("--max-queries", type=int, default=None)
    args = parser.parse_args()
    collection = load(fetch(args.cache), max_queries=args.max_queries)
    judged = sum(len(docs) for docs in collection.relevant.values())
    words = sum(len(text.split()) for text in collection.documents.values())
    print(f"{collection.name}: {collection.source}")
    print(
        f"{len(collection.documents)} documents ({words / len(collection.documents):.0f} words "
        f"on average), {len(collection.queries)} queries, {judged} relevant (query, doc) pairs"
    )
    for query_id in list(collection.queries)[:3]:
        print(
            f"  {query_id}: {collection.queries[query_id]!r} -> "
            f"{sorted(collection.relevant[query_id])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
