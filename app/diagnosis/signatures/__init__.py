"""Failure signatures: parsers read what people paste into facts; knowledge/signatures scores them and is cited."""

from app.diagnosis.signatures.facts import read_facts
from app.diagnosis.signatures.library import Signature, load_signatures
from app.diagnosis.signatures.match import TEXT_LIMIT, gather, match_signatures
from app.diagnosis.signatures.splits import LARGE_DROP

__all__ = ["LARGE_DROP", "TEXT_LIMIT", "Signature", "gather", "load_signatures", "match_signatures", "read_facts"]
