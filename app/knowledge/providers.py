"""Search providers behind one interface: the local BM25 index and the Azure AI Search REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import numpy as np

from app.errors import EndpointError, InputError
from app.knowledge.bm25 import BM25, tokenize
from app.knowledge.corpus import Chunk, load_corpus
from app.knowledge.models import Citation

__all__ = ["DEFAULT_SCOPES", "AzureSearchProvider", "LocalProvider", "SearchProvider", "best_snippet"]

DEFAULT_SCOPES = ("public", "internal")
_SNIPPET_CHARS = 280


class SearchProvider(Protocol):
    """Anything that turns a query into ranked citations."""

    name: str

    def search(self, query: str, k: int = 5, category: str | None = None) -> list[Citation]: ...


def best_snippet(text: str, query: str, limit: int = _SNIPPET_CHARS) -> str:
    """The line of ``text`` sharing most terms with ``query`` (first wins ties), trimmed to ``limit``.

    >>> best_snippet("- drop the column\\n- re-split by time", "split by time")
    're-split by time'
    """
    q = set(tokenize(query))
    lines = [ln.strip().lstrip("-*|").strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ""
    best = max(range(len(lines)), key=lambda i: (len(q & set(tokenize(lines[i]))), -i))
    line = " ".join(lines[best].split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class LocalProvider:
    """BM25 over the markdown sections under ``root`` whose permission scope is allowed."""

    name = "local"

    def __init__(self, root: Path | None = None, allowed_scopes: tuple[str, ...] = DEFAULT_SCOPES) -> None:
        self.root = root
        self.allowed_scopes = tuple(allowed_scopes)
        self.chunks: list[Chunk] = [c for c in load_corpus(root) if c.permission_scope in self.allowed_scopes]
        if not self.chunks:
            raise InputError(f"knowledge base is empty for scopes {list(self.allowed_scopes)}")
        self._bm25 = BM25().fit([tokenize(f"{c.title} {c.section} {c.section} {c.text}") for c in self.chunks])

    @property
    def n_documents(self) -> int:
        return len({c.doc_id for c in self.chunks})

    def _citation(self, i: int, score: float, query: str) -> Citation:
        c = self.chunks[i]
        return Citation(
            doc_id=c.doc_id,
            title=c.title,
            path=c.path,
            section=c.section,
            snippet=best_snippet(c.text, query),
            score=round(float(score), 4),
            source_type=c.source_type,
            permission_scope=c.permission_scope,
        )

    def search(self, query: str, k: int = 5, category: str | None = None) -> list[Citation]:
        """Top-``k`` sections by BM25 score (> 0), optionally restricted to one category."""
        scores = self._bm25.scores(tokenize(query))
        idx = [
            i
            for i in np.argsort(-scores, kind="stable")
            if scores[i] > 0 and (category is None or self.chunks[i].category == category)
        ]
        return [self._citation(i, scores[i], query) for i in idx[:k]]

    def find(self, doc_id: str, section: str) -> Chunk | None:
        """The chunk with this document id and section heading (exact), if any."""
        for c in self.chunks:
            if c.doc_id == doc_id and c.section == section:
                return c
        return None

    def by_category(self, category: str) -> list[Chunk]:
        return [c for c in self.chunks if c.category == category]

    def cite(self, doc_id: str, section: str, query: str) -> Citation | None:
        """A citation of one named section, scored against ``query`` (None if the section does not exist)."""
        for i, c in enumerate(self.chunks):
            if c.doc_id == doc_id and c.section == section:
                score = float(self._bm25.scores(tokenize(query))[i])
                return self._citation(i, score, query)
        return None


class AzureSearchProvider:
    """Azure AI Search ``docs/search`` REST call; the api-key goes in a header and never into any output."""

    name = "azure_ai_search"

    def __init__(
        self,
        endpoint: str,
        index: str,
        key: str,
        *,
        timeout_s: float = 5.0,
        api_version: str = "2024-07-01",
        allowed_scopes: tuple[str, ...] = DEFAULT_SCOPES,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise InputError("azure_search_endpoint must start with http:// or https://")
        if not index or not key:
            raise InputError("azure_search_index and azure_search_key must both be set")
        self.endpoint = endpoint.rstrip("/")
        self.index = index
        self._key = key
        self.timeout_s = timeout_s
        self.api_version = api_version
        self.allowed_scopes = tuple(allowed_scopes)

    def __repr__(self) -> str:  # never show the key
        return f"AzureSearchProvider(endpoint={self.endpoint!r}, index={self.index!r})"

    def _to_citation(self, doc: dict[str, Any], query: str) -> Citation | None:
        scope = str(doc.get("permission_scope") or "")
        if scope not in self.allowed_scopes:
            return None  # fail closed: a document without an allowed scope is never cited
        doc_id = str(doc.get("doc_id") or doc.get("id") or "")
        if not doc_id:
            return None
        content = str(doc.get("content") or doc.get("chunk") or doc.get("snippet") or "")
        return Citation(
            doc_id=doc_id,
            title=str(doc.get("title") or doc_id),
            path=str(doc.get("path") or f"azure-search://{self.index}/{doc_id}"),
            section=str(doc.get("section") or ""),
            snippet=best_snippet(content, query),
            score=round(float(doc.get("@search.score") or 0.0), 4),
            source_type="azure_ai_search",
            permission_scope=scope,
        )

    def search(self, query: str, k: int = 5, category: str | None = None) -> list[Citation]:
        """POST the query; map each hit to a citation (hits outside ``category`` are dropped when it is set)."""
        import requests

        url = f"{self.endpoint}/indexes/{quote(self.index, safe='')}/docs/search"
        try:
            resp = requests.post(
                url,
                params={"api-version": self.api_version},
                json={"search": query, "top": k},
                headers={"api-key": self._key, "Content-Type": "application/json"},
                timeout=self.timeout_s,
            )
        except requests.RequestException as exc:
            raise EndpointError(f"Azure AI Search unreachable: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise EndpointError(f"Azure AI Search answered HTTP {resp.status_code}")
        try:
            hits = resp.json().get("value", [])
        except ValueError:
            raise EndpointError("Azure AI Search returned a body that is not JSON") from None
        if not isinstance(hits, list):
            raise EndpointError("Azure AI Search response has no 'value' list")
        out = []
        for doc in hits:
            if not isinstance(doc, dict):
                continue
            if category is not None and doc.get("category") not in (None, category):
                continue
            cit = self._to_citation(doc, query)
            if cit is not None:
                out.append(cit)
        return out[:k]
