"""Load the markdown knowledge base: flat front matter, then one chunk per section heading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from app.config import REPO_ROOT
from app.errors import InputError

__all__ = ["DEFAULT_ROOT", "Chunk", "load_corpus", "parse_front_matter", "split_sections"]

DEFAULT_ROOT = REPO_ROOT / "knowledge"
_HEADING = re.compile(r"^(#{1,3})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Chunk:
    """One section of one knowledge document."""

    doc_id: str
    title: str
    path: str  # relative to the repository root when possible, e.g. knowledge/playbooks/x.md
    section: str  # heading text of the section
    text: str  # the section body (markdown)
    category: str
    permission_scope: str
    source_type: str


def parse_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split ``---``-delimited flat ``key: value`` front matter from the body.

    >>> meta, body = parse_front_matter("---\\nid: a\\ntitle: 'A doc'\\n---\\n# A\\n")
    >>> meta, body
    ({'id': 'a', 'title': 'A doc'}, '# A\\n')
    >>> parse_front_matter("# no front matter")[0]
    {}
    """
    if not text.startswith("---"):
        return {}, text
    lines = text.splitlines(keepends=True)
    meta: dict[str, str] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return meta, "".join(lines[i + 1 :])
        if ":" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip("'\"")
    return {}, text  # unterminated: treat as plain markdown


def split_sections(body: str, title: str) -> list[tuple[str, str]]:
    """Split a markdown body into (heading, text) pairs at level-1..3 headings; skips empty sections.

    >>> split_sections("# T\\nintro\\n## Symptoms\\n- a\\n## Empty\\n", "T")
    [('T', 'intro'), ('Symptoms', '- a')]
    """
    out: list[tuple[str, str]] = []
    heading, buf = title, []
    in_code = False
    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        m = None if in_code else _HEADING.match(line)
        if m:
            if "\n".join(buf).strip():
                out.append((heading, "\n".join(buf).strip()))
            heading, buf = m.group(2).strip(), []
        else:
            buf.append(line)
    if "\n".join(buf).strip():
        out.append((heading, "\n".join(buf).strip()))
    return out


def _display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def load_corpus(root: Path | None = None) -> list[Chunk]:
    """Every section of every ``*.md`` under ``root`` (sorted by path, so the order is deterministic)."""
    root = Path(root) if root is not None else DEFAULT_ROOT
    if not root.is_dir():
        raise InputError(f"knowledge directory not found: {root}")
    chunks: list[Chunk] = []
    for path in sorted(root.rglob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            logger.warning(f"skipping unreadable knowledge file {path.name}: {exc}")
            continue
        meta, body = parse_front_matter(text)
        rel = _display_path(path)
        doc_id = meta.get("id") or rel.removesuffix(".md").replace("/", "-")
        title = meta.get("title") or path.stem.replace("_", " ")
        for section, sec_text in split_sections(body, title):
            chunks.append(
                Chunk(
                    doc_id=doc_id,
                    title=title,
                    path=rel,
                    section=section,
                    text=sec_text,
                    category=meta.get("category", "general"),
                    permission_scope=meta.get("permission_scope", "internal"),
                    source_type=meta.get("source_type", path.parent.name or "document"),
                )
            )
    return chunks
