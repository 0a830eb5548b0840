"""Retrieval over the markdown knowledge base (BM25, local or Azure AI Search) returning real citations."""

from app.knowledge.bm25 import BM25, tokenize
from app.knowledge.corpus import Chunk, load_corpus, parse_front_matter
from app.knowledge.models import Citation, Grounding
from app.knowledge.providers import AzureSearchProvider, LocalProvider, SearchProvider
from app.knowledge.retriever import Retriever, build_retriever

__all__ = [
    "BM25",
    "AzureSearchProvider",
    "Chunk",
    "Citation",
    "Grounding",
    "LocalProvider",
    "Retriever",
    "SearchProvider",
    "build_retriever",
    "load_corpus",
    "parse_front_matter",
    "tokenize",
]
