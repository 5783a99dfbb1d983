"""The passages a question in a conversation is answered from: the files attached to it
(read whole when they are short, searched when not) and the conversation's library."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.docs.retrieval import search
from engine.storage.types import Passage

if TYPE_CHECKING:
    from engine.docs.embedding import Embedder
    from engine.storage import ConversationStore

LIBRARY_PASSAGES = 4
WHOLE_ATTACHMENT_PASSAGES = 12  # attached files this short are given whole, in order


class DocumentFinder:
    """Implements ``engine.chat.PassageFinder`` over the store (and an embedder, if any)."""

    def __init__(
        self,
        store: ConversationStore,
        embedder: Embedder | None = None,
        *,
        limit: int = LIBRARY_PASSAGES,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._limit = limit

    @property
    def embedder(self) -> Embedder | None:
        return self._embedder

    def find(
        self,
        conversation_id: int,
        question: str,
        *,
        attached: Sequence[int] = (),
        exclude: frozenset[str] = frozenset(),
    ) -> Sequence[Passage]:
        store = self._store
        found: list[Passage] = []
        if attached:
            whole = [p for doc in attached for p in store.document_chunks(doc)]
            if len(whole) <= WHOLE_ATTACHMENT_PASSAGES:
                found.extend(whole)
        libraries = [
            lib
            for lib in (
                store.find_attachments(conversation_id),
                store.conversation_library(conversation_id),
            )
            if lib is not None
        ]
        if libraries:
            hits = search(store, libraries, question, embedder=self._embedder, limit=40)
            taken = 0
            for hit in hits:
                if taken == self._limit:
                    break
                if hit.passage.text in exclude or hit.passage in found:
                    continue
                found.append(hit.passage)
                taken += 1
        return found
