"""Category -> learning resources and certifications, read from the knowledge base's learning-path map."""

from __future__ import annotations

from app.diagnosis.models import LearningItem
from app.errors import InputError
from app.knowledge.providers import LocalProvider

__all__ = ["MAP_DOC", "MAP_SECTION", "learning_map", "learning_path"]

MAP_DOC, MAP_SECTION = "learning-path-map", "Map"


def learning_map(local: LocalProvider) -> list[dict[str, str | None]]:
    """Rows of the markdown table in the learning-path map: category, id, title, certification."""
    chunk = local.find(MAP_DOC, MAP_SECTION)
    if chunk is None:
        raise InputError(f"knowledge base has no '{MAP_SECTION}' section in document {MAP_DOC}")
    rows = []
    for line in chunk.text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("category", "") or set(cells[0]) <= {"-", ":"}:
            continue
        rows.append({"category": cells[0], "id": cells[1], "title": cells[2], "certification": cells[3] or None})
    return rows


def learning_path(
    local: LocalProvider, primary: str, secondary: list[str], *, ai_service: bool = False, fairness_given: bool = False
) -> list[LearningItem]:
    """All rows of the primary category, the first row of each secondary risk, then context rows (AI service, RAI)."""
    rows = learning_map(local)
    chunk = local.find(MAP_DOC, MAP_SECTION)
    src = {"doc_id": MAP_DOC, "path": chunk.path if chunk else "", "section": MAP_SECTION}
    picked: list[dict[str, str | None]] = [r for r in rows if r["category"] == primary]
    for cat in secondary:
        first = next((r for r in rows if r["category"] == cat), None)
        if first is not None:
            picked.append(first)
    if ai_service:
        picked += [r for r in rows if r["category"] == "ai_service"]
    if fairness_given:
        picked += [r for r in rows if r["category"] == "responsible_ai"]
    out, seen = [], set()
    for r in picked:
        if r["id"] in seen:
            continue
        seen.add(r["id"])
        out.append(
            LearningItem(
                id=str(r["id"]),
                title=str(r["title"]),
                certification=r["certification"],
                category=str(r["category"]),
                source=src,
            )
        )
    return out
