"""Typed citation and grounding records shared by the retriever and the diagnosis payload."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["LOCAL_PROOF", "REMOTE_PROOF", "Citation", "Grounding"]

LOCAL_PROOF = "local_knowledge_base"
REMOTE_PROOF = "remote_search_results"


class Citation(BaseModel):
    """One retrieved passage: which file and section it comes from, and how well it matched."""

    model_config = ConfigDict(frozen=True)

    doc_id: str
    title: str
    path: str
    section: str
    snippet: str
    score: float
    source_type: str
    permission_scope: str


class Grounding(BaseModel):
    """What one run really used: search (local or remote) x reasoning (local or remote); never claims more.

    ``proof_level`` names the search half and, only when a remote model's record was used, adds
    ``+remote_reasoning``; ``search`` and ``reasoning`` state the two halves on their own.
    """

    provider: Literal["local", "azure_ai_search"] = "local"
    proof_level: Literal[
        "local_knowledge_base",
        "remote_search_results",
        "local_knowledge_base+remote_reasoning",
        "remote_search_results+remote_reasoning",
    ] = "local_knowledge_base"
    remote_used: bool = False
    remote_configured: bool = False
    remote_error: str | None = None
    corpus_documents: int = 0
    search: Literal["local", "remote"] = "local"
    reasoning: Literal["local", "remote"] = "local"
    reasoning_configured: bool = False
    reasoning_model: str | None = None
    reasoning_error: str | None = None
