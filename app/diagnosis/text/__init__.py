"""Free text about a failed experiment read into record fields: scanning, named patterns per topic, attribution."""

from app.diagnosis.text.parse import parse_text

__all__ = ["parse_text"]
