"""The learned reader: a linear model over development write-ups, consulted when the rules abstain or disagree weakly."""

from app.diagnosis.learned.decide import reader_doubts, revise
from app.diagnosis.learned.vectors import MODEL_PATH, ReaderModel, document, load_model

__all__ = ["MODEL_PATH", "ReaderModel", "document", "load_model", "reader_doubts", "revise"]
