"""Per-flush cost of rendering a long streaming answer in the transcript (not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ui_render.py [--chars 40000]

Streams a synthetic answer (prose, lists, a table, short and long fenced code blocks) into a
shown TranscriptView in batches the size the window flushes at about 30 times a second
(≈ 150 tokens/s ≈ 20 characters a flush), and times each flush including the layout and paint
it triggers. For comparison it does the same with one QTextBrowser that re-parses the whole
answer every flush (the naive way). Prints median and p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import QApplication, QTextBrowser  # noqa: E402

from desktop.widgets.transcript_view import TranscriptView  # noqa: E402

PROSE = (
    "The **quick** brown fox jumps over the lazy dog, with `inline code` and a "
    "[link](https://example.org) now and then, so that the paragraph wraps. "
)
CODE_LINE = "    result = [transform(item, index) for index, item in enumerate(items)]  # n\n"


def synthetic_answer(chars: int) -> str:
    parts, n = [], 0
    while sum(len(p) for p in parts) < chars:
        n += 1
        parts.append(PROSE * 4 + "\n\n")
        parts.append("- first point\n- second point with **bold**\n- third point\n\n")
        if n % 3 == 0:
            parts.append(
                "```python\ndef f(items):\n" + CODE_LINE * 12 + "    return result\n```\n\n"
            )
        if n % 7 == 0:
            parts.append("| a | b |\n|---|---|\n| 1 | 2 |\n\n")
        if n == 5:
            parts.append("```python\n" + CODE_LINE * 300 + "```\n\n")
    return "".join(parts)


def batches(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def measure(app: QApplication, flush: Callable[[str], None], pieces: list[str]) -> list[float]:
    times = []
    for piece in pieces:
        start = time.perf_counter()
        flush(piece)
        app.processEvents()  # the layout and paint that the flush caused
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(name: str, times: list[float]) -> None:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(
        f"{name:<34} flushes {len(times):>5}   median {statistics.median(times):6.2f} ms   "
        f"p99 {p99:7.2f} ms   max {ordered[-1]:7.2f} ms   total {sum(times) / 1000:5.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=40_000)
    parser.add_argument("--batch", type=int, default=20, help="characters per flush")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    text = synthetic_answer(args.chars)
    pieces = batches(text, args.batch)
    print(
        f"answer: {len(text)} characters, {text.count('```') // 2} code blocks, "
        f"batches of {args.batch} characters; platform {QApplication.platformName()}"
    )

    view = TranscriptView()
    view.resize(900, 700)
    view.show()
    view.add_message("user", "Explain it at length.")
    reply = view.add_message("assistant", streaming=True)
    app.processEvents()
    times = measure(app, reply.append_answer, pieces)
    report("Hearth TranscriptView", times)
    slowest = max(range(len(times)), key=times.__getitem__)
    before = "".join(pieces[: slowest + 1])
    print(
        f"  slowest flush: {times[slowest]:.1f} ms at character {len(before)}, line "
        f"{before.count(chr(10)) + 1}: {pieces[slowest]!r}"
    )
    reply.finish("done")
    blocks = reply.body.block_count()
    view.close()

    naive = QTextBrowser()
    naive.resize(900, 700)
    naive.show()
    source: list[str] = []

    def reparse_all(piece: str) -> None:
        source.append(piece)
        naive.document().setMarkdown(
            "".join(source), QTextDocument.MarkdownFeature.MarkdownDialectGitHub
        )

    report("naive: re-parse everything", measure(app, reparse_all, pieces))
    naive.close()
    print(f"Hearth rendered the answer as {blocks} blocks.")


if __name__ == "__main__":
    main()
