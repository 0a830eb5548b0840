"""The retriever of one run: local BM25 always, Azure AI Search first when configured; honest grounding."""

from __future__ import annotations

from pathlib import Path

from loguru import logger

from app.config import Settings
from app.errors import EndpointError
from app.knowledge.models import LOCAL_PROOF, REMOTE_PROOF, Citation, Grounding
from app.knowledge.providers import AzureSearchProvider, LocalProvider

__all__ = ["Retriever", "build_retriever"]


class Retriever:
    """Searches for one diagnosis run and remembers whether a remote search really answered.

    ``grounding`` reports ``remote_used=True`` and the remote proof level only when the remote provider
    returned at least one citation during this run; otherwise the local knowledge base is the proof.
    """

    def __init__(self, local: LocalProvider, remote: AzureSearchProvider | None = None) -> None:
        self.local = local
        self.remote = remote
        self._remote_hits = 0
        self._remote_error: str | None = None

    def search(self, query: str, k: int = 5, category: str | None = None) -> list[Citation]:
        """Remote results when the remote provider answers with hits, else local BM25 results."""
        if self.remote is not None:
            try:
                hits = self.remote.search(query, k=k, category=category)
            except EndpointError as exc:
                self._remote_error = str(exc)
                logger.warning(f"remote knowledge search failed, using the local knowledge base: {exc}")
                hits = []
            if hits:
                self._remote_hits += len(hits)
                return hits
        return self.local.search(query, k=k, category=category)

    def cite(self, doc_id: str, section: str, query: str) -> Citation | None:
        """A citation of a named local section (plan items and learning paths quote local files)."""
        return self.local.cite(doc_id, section, query)

    @property
    def grounding(self) -> Grounding:
        used = self._remote_hits > 0
        return Grounding(
            provider="azure_ai_search" if used else "local",
            proof_level=REMOTE_PROOF if used else LOCAL_PROOF,
            remote_used=used,
            remote_configured=self.remote is not None,
            remote_error=self._remote_error,
            corpus_documents=self.local.n_documents,
            search="remote" if used else "local",
        )


def build_retriever(settings: Settings | None = None, knowledge_dir: Path | None = None) -> Retriever:
    """Local provider over ``knowledge_dir`` (default: the repository's knowledge/), plus Azure when configured."""
    local = LocalProvider(knowledge_dir)
    remote = None
    if (
        settings is not None
        and settings.azure_search_endpoint
        and settings.azure_search_index
        and settings.azure_search_key
    ):
        remote = AzureSearchProvider(
            settings.azure_search_endpoint,
            settings.azure_search_index,
            settings.azure_search_key.get_secret_value(),
            timeout_s=settings.probe_timeout_s,
        )
    return Retriever(local, remote)
