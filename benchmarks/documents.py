"""Private-documents benchmark: retrieval quality, indexing throughput, query latency and time
to first token with passages.

    .venv/bin/python -m benchmarks.documents [--quality-docs 120] [--chunks 10000 100000]
        [--pdf-pages 200] [--rounds 5] [--skip quality,indexing,latency,ttft]

Everything runs through Hearth's own code on a real encrypted store (passphrase-keyed, in a
temp folder): files are read by ``update_library``, passages ranked by ``engine.docs.search``.

- **Quality** on a real public corpus nobody on the team wrote: the Linux man pages as Debian
  packages them (``benchmarks/_corpus.py``: a known-item collection; query = a page's NAME
  line, the answer = that page with its NAME section removed). recall@5 and MRR@10 by
  document (a document's best passage stands for it) for BM25, vectors and hybrid. BM25 alone
  over every page; all three over a fixed subset (``--quality-docs``), because vectors for
  every passage take llama.cpp time. The embedder is the starter chat model (SmolLM2 135M,
  mean-pooled) — no embedding GGUF is reachable from these machines — so the vector figures
  are a floor for what a real embedding model gives.
- **Indexing**: a PDF written with fpdf2 (``--pdf-pages`` pages of man-page text) read into
  passages: pages/s and passages/s; then passages/s for vectors from the embedder.
- **Latency** at ``--chunks`` passages (synthetic 768-dimension int8 vectors, the catalog
  embedding model's size; text from the man pages): BM25, vector and hybrid search p50/p95,
  the query's embedding excluded (measured separately), and the first vector search, which
  loads the matrix from the store. Ratios are against BM25 measured in the same rounds.
- **Time to first token** with four passages against the same question with none,
  alternating, fresh KV cache each time (medians).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks import _corpus
from engine.catalog import load_catalog
from engine.chat import Chat
from engine.docs import DocumentFinder, add_sources, open_embedder, search, update_library
from engine.docs.retrieval import Mode
from engine.inference import Answer, GenerationOptions, open_model
from engine.paths import PROJECT_ROOT
from engine.storage import ConversationStore, open_store
from engine.storage.passage_search import quantize
from engine.storage.types import ChunkText, FileFacts, Library

STARTER = PROJECT_ROOT / "assets" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
PASSPHRASE = "benchmark passphrase"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 50) * 1000:.1f} ms, p95 {pct(values, 95) * 1000:.1f} ms"


def stable(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# -- quality ------------------------------------------------------------------------------


def write_corpus(folder: Path, documents: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for doc_id, text in documents.items():
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")


def ranked_documents(store: ConversationStore, library: Library, query: str, embedder, mode: Mode):
    hits = search(store, [library], query, embedder=embedder, limit=50, mode=mode)
    order: dict[str, None] = {}
    for hit in hits:
        order.setdefault(Path(hit.passage.path).name.removesuffix(".txt"), None)
    return list(order)


def score(store, library, collection, queries, *, embedder, mode: Mode) -> tuple[float, float]:
    recall, rr = [], []
    for query_id in queries:
        ranking = ranked_documents(store, library, collection.queries[query_id], embedder, mode)
        relevant = collection.relevant[query_id]
        recall.append(len(relevant & set(ranking[:5])) / len(relevant))
        first = next((i for i, d in enumerate(ranking[:10], start=1) if d in relevant), None)
        rr.append(1 / first if first else 0.0)
    return statistics.mean(recall), statistics.mean(rr)


def quality(tmp: Path, subset_size: int) -> None:
    folder = _corpus.fetch(_corpus.DEFAULT_CACHE)
    collection = _corpus.load(folder)
    print(f"Corpus: {collection.source}")
    with open_store(tmp / "quality.db", passphrase=PASSPHRASE) as store:
        every = store.create_library("all pages")
        write_corpus(tmp / "all", collection.documents)
        add_sources(store, every, [tmp / "all"])
        report = update_library(store, every)
        queries = sorted(collection.queries)
        r5, mrr = score(store, every, collection, queries, embedder=None, mode="keyword")
        print(
            f"BM25, all {len(collection.documents):,} pages ({report.chunks_written:,} passages), "
            f"{len(queries):,} queries: recall@5 {r5:.3f}, MRR@10 {mrr:.3f}"
        )
        if subset_size <= 0:
            return
        chosen = set(sorted(collection.documents, key=stable)[:subset_size])
        subset_queries = [q for q in queries if collection.relevant[q] <= chosen]
        part = store.create_library("subset")
        write_corpus(tmp / "subset", {d: collection.documents[d] for d in chosen})
        add_sources(store, part, [tmp / "subset"])
        with open_embedder(STARTER, model_id="starter-embeddings") as embedder:
            started = time.monotonic()
            report = update_library(store, part, embedder=embedder)
            took = time.monotonic() - started
            part = store.library_by_id(part.id)
            print(
                f"Subset: {len(chosen)} pages, {report.chunks_written:,} passages, "
                f"{len(subset_queries)} queries (read and embedded in {took:.0f} s)"
            )
            for mode in ("keyword", "vector", "hybrid"):
                r5, mrr = score(
                    store, part, collection, subset_queries, embedder=embedder, mode=mode
                )
                name = {"keyword": "BM25", "vector": "vectors", "hybrid": "hybrid"}[mode]
                print(f"  {name:8} recall@5 {r5:.3f}, MRR@10 {mrr:.3f}")


# -- indexing -----------------------------------------------------------------------------


def indexing(tmp: Path, pages: int) -> None:
    from fpdf import FPDF

    texts = list(_corpus.load(_corpus.fetch(_corpus.DEFAULT_CACHE)).documents.values())
    words = " ".join(texts).split()
    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    for n in range(pages):
        pdf.add_page()
        start = (n * 420) % (len(words) - 420)
        text = " ".join(words[start : start + 420]).encode("latin-1", "replace").decode("latin-1")
        pdf.multi_cell(0, 5, text)
    folder = tmp / "pdf"
    folder.mkdir()
    pdf.output(str(folder / "long.pdf"))
    with open_store(tmp / "indexing.db", passphrase=PASSPHRASE) as store:
        library = store.create_library("pdf")
        add_sources(store, library, [folder])
        started = time.monotonic()
        report = update_library(store, library)
        took = time.monotonic() - started
        print(
            f"Indexing a {pages}-page PDF ({(folder / 'long.pdf').stat().st_size / 1e6:.1f} MB):"
            f" {took:.1f} s, {report.pages_read / took:.1f} pages/s, "
            f"{report.chunks_written / took:.1f} passages/s (text and keyword index)"
        )
        with open_embedder(STARTER, model_id="starter-embeddings") as embedder:
            sample = [p.text for p in store.chunks_missing_vectors(library.id, "x", 48)]
            started = time.monotonic()
            embedder.embed_passages(sample)
            took = time.monotonic() - started
            print(
                f"Vectors (starter model, 2 threads): {len(sample) / took:.2f} passages/s "
                f"({took / len(sample) * 1000:.0f} ms a passage of ~160 words)"
            )


# -- latency ------------------------------------------------------------------------------


def fill(store: ConversationStore, chunks: int, texts: list[str], dims: int) -> Library:
    rng = np.random.default_rng(7)
    words = " ".join(texts).split()
    library = store.create_library(f"{chunks} passages")
    per_doc = 200
    for d in range(chunks // per_doc):
        passages, vectors = [], []
        for c in range(per_doc):
            start = ((d * per_doc + c) * 97) % (len(words) - 160)
            passages.append(ChunkText(0, " ".join(words[start : start + 160])))
            vectors.append(quantize(rng.standard_normal(dims).astype(np.float32)))
        store.save_document(
            library.id,
            FileFacts(f"/bench/doc-{d}.txt", "text", 0, 0, f"{d:064x}"),
            pages=0,
            chunks=passages,
            vectors=vectors,
            embedder="synthetic-768",
        )
    store.set_library_embedder(library.id, "synthetic-768")
    return store.library_by_id(library.id)


class _FixedEmbedder:
    """Stands in for the embedder so the search itself is timed (the query's embedding is
    measured on its own with the real one)."""

    model_id = "synthetic-768"


def latency(tmp: Path, sizes: list[int], rounds: int) -> None:
    collection = _corpus.load(_corpus.fetch(_corpus.DEFAULT_CACHE))
    texts = list(collection.documents.values())
    queries = sorted(collection.queries.values(), key=stable)[:40]
    rng = np.random.default_rng(11)
    for size in sizes:
        with open_store(tmp / f"latency-{size}.db", passphrase=PASSPHRASE) as store:
            started = time.monotonic()
            library = fill(store, size, texts, 768)
            print(f"{size:,} passages stored in {time.monotonic() - started:.0f} s")
            fake = _FixedEmbedder()
            started = time.perf_counter()
            store.vector_matrix([library.id], fake.model_id)
            print(f"  first vector search loads the matrix: {time.perf_counter() - started:.2f} s")
            timings: dict[str, list[float]] = {"keyword": [], "vector": [], "hybrid": []}
            for _ in range(rounds):
                for query in queries:
                    vector = rng.standard_normal(768).astype(np.float32)
                    vector /= np.linalg.norm(vector)
                    for mode in ("keyword", "vector", "hybrid"):  # alternating, same query
                        t = time.perf_counter()
                        search(
                            store,
                            [library],
                            query,
                            embedder=fake,
                            mode=mode,  # type: ignore[arg-type]
                            query_vector=vector,
                        )
                        timings[mode].append(time.perf_counter() - t)
            base = statistics.median(timings["keyword"])
            for mode, values in timings.items():
                ratio = statistics.median(values) / base
                print(f"  {mode:8} {ms(values)} ({ratio:.2f}x BM25, {len(values)} queries)")
    with open_embedder(STARTER, model_id="starter-embeddings") as embedder:
        times = []
        for query in queries:
            t = time.perf_counter()
            embedder.embed_query(query)
            times.append(time.perf_counter() - t)
        print(f"Embedding the question (starter model): {ms(times)}")


# -- time to first token ------------------------------------------------------------------


def ttft(tmp: Path, rounds: int) -> None:
    collection = _corpus.load(_corpus.fetch(_corpus.DEFAULT_CACHE))
    docs = dict(sorted(collection.documents.items(), key=lambda kv: stable(kv[0]))[:40])
    write_corpus(tmp / "ttft", docs)
    catalog = load_catalog()
    question = "How do I open and possibly create a file?"
    with (
        open_store(tmp / "ttft.db", passphrase=PASSPHRASE) as store,
        open_model(STARTER, entry=catalog.default, n_ctx=4096) as session,
    ):
        library = store.create_library("pages")
        add_sources(store, library, [tmp / "ttft"])
        update_library(store, library)
        results: dict[str, list[float]] = {"none": [], "four": [], "follow-up": []}
        passages: list[int] = []
        reused: list[float] = []

        def first_token(chat: Chat, text: str) -> tuple[float, object]:
            started = time.perf_counter()
            turn = chat.send(text, GenerationOptions(max_tokens=4, temperature=0.0))
            first = None
            for chunk in turn:
                if first is None and isinstance(chunk, Answer):
                    first = time.perf_counter() - started
            return first or 0.0, turn

        for _ in range(rounds):
            for kind in ("none", "four"):
                session.forget()
                chat = Chat(
                    store, session, finder=DocumentFinder(store) if kind == "four" else None
                )
                conv = chat.ensure_conversation(question)
                if kind == "four":
                    store.set_conversation_library(conv, library.id)
                took, turn = first_token(chat, question)
                results[kind].append(took)
                if kind == "four":
                    passages.append(len(turn.sources))  # type: ignore[attr-defined]
                    took, turn = first_token(chat, "And how do I close it again?")
                    results["follow-up"].append(took)
                    stats = turn.result.stats  # type: ignore[attr-defined]
                    reused.append(1 - stats.evaluated_tokens / stats.prompt_tokens)
        none, four = statistics.median(results["none"]), statistics.median(results["four"])
        follow = statistics.median(results["follow-up"])
        print(
            f"Time to first token, starter model: no passages {none * 1000:.0f} ms, "
            f"{statistics.median(passages):.0f} passages {four * 1000:.0f} ms "
            f"({four / none:.2f}x; medians of {rounds} alternating runs, cold KV cache); "
            f"a follow-up with new passages {follow * 1000:.0f} ms, "
            f"{statistics.median(reused) * 100:.0f} % of its prompt from the cache"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quality-docs", type=int, default=120, help="pages in the vectors subset (0: none)"
    )
    parser.add_argument("--chunks", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--pdf-pages", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip", default="", help="comma-separated parts to leave out")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    random.seed(1)
    print(f"python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M')}")
    with tempfile.TemporaryDirectory(prefix="hearth-docs-bench-") as tmp:
        root = Path(tmp)
        if "indexing" not in skip:
            indexing(root, args.pdf_pages)
        if "latency" not in skip:
            latency(root, args.chunks, args.rounds)
        if "ttft" not in skip:
            ttft(root, args.rounds)
        if "quality" not in skip:
            quality(root, args.quality_docs)


if __name__ == "__main__":
    main()
