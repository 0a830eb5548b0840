"""Self-contained HTML report (inline CSS, no external assets) plus the JSON payload, both showing payload_hash."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from app.diagnosis.models import Diagnosis
from app.errors import InputError

__all__ = ["export_report", "render_html"]

_CSS = (
    "body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1000px;color:#1d2430}"
    "h1{font-size:1.5rem;margin-bottom:.2rem}"
    "h2{font-size:1.15rem;border-bottom:1px solid #dde;padding-bottom:.2rem;margin-top:1.6rem}"
    "table{border-collapse:collapse;width:100%;margin:.4rem 0}"
    "td,th{border:1px solid #dde;padding:.3rem .45rem;text-align:left;vertical-align:top}"
    "th{background:#f3f5f9}"
    ".gate{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:600}"
    ".BLOCKED_PENDING_HUMAN_REVIEW{background:#fde2e1;color:#8a1c14}"
    ".REVIEW_RECOMMENDED{background:#fff3cd;color:#7a5b00}.CLEAR{background:#dcf5e3;color:#17602e}"
    "code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}"
    ".hash{word-break:break-all;background:#f3f5f9;padding:.3rem .5rem;display:block}"
    ".bar{background:#4a6fd1;height:.7rem}.muted{color:#667}"
    "pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:12px}"
)


def _e(x: Any) -> str:
    return escape("" if x is None else str(x))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _cite(c: dict[str, Any] | None) -> str:
    if not c:
        return ""
    return f"<code>{_e(c.get('path') or c.get('doc_id'))}</code> &sect; {_e(c.get('section'))}"


def _evidence(items: list[dict[str, Any]]) -> str:
    return _table(
        ["id", "kind", "category", "statement", "numbers", "source"],
        [
            [
                _e(i["id"]),
                _e(i["kind"] + (" (concrete)" if i.get("concrete") else "")),
                _e(i.get("category")),
                _e(i["statement"]),
                _e(", ".join(f"{k}={v}" for k, v in i.get("values", {}).items())),
                _e("; ".join(i.get("sources", []))),
            ]
            for i in items
        ],
    )


def render_html(d: Diagnosis) -> str:
    """The report as one HTML string; every value is escaped; the full payload is embedded as JSON."""
    p = d.payload()
    plan = p["remediation_plan"]
    scores = _table(
        ["category", "score", ""],
        [
            [_e(s["category"]), f"{s['score']:.3f}", f'<div class="bar" style="width:{int(s["score"] * 300)}px"></div>']
            for s in p["category_scores"]
        ],
    )
    plan_html = "".join(
        f"<h3>{_e(label)}</h3>"
        + _table(
            ["action", "category", "origin", "source"],
            [[_e(i["action"]), _e(i["category"]), _e(i["origin"]), _cite(i["citation"])] for i in plan[key]],
        )
        for key, label in (("3_day", "Within 3 days"), ("7_day", "Within 7 days"))
    )
    embedded = (
        json.dumps(p, indent=1, ensure_ascii=False)  # inert inside <script>: no <, >, & at all
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    flags = _table(
        ["field", "value"],
        [
            [_e(k), _e(p[k])]
            for k in (
                "primary_category",
                "subtype",
                "secondary_risks",
                "confidence",
                "report_ready",
                "deployment_ready",
                "human_review_required",
                "leakage_audit_recommended",
                "active_leakage_signal",
                "responsible_ai_status",
            )
        ],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>mlfi diagnosis {_e(p["diagnosis_id"])}</title>
<style>{_CSS}</style></head><body>
<h1>Experiment diagnosis: {_e(p["primary_category"])}</h1>
<p class="muted">{_e(p["diagnosis_id"])} &middot; {_e(p["created_at"])} &middot; {_e(p["input"].get("source"))}
{(" &middot; " + _e(p["input"].get("title"))) if p["input"].get("title") else ""}</p>
<p><span class="gate {_e(p["deployment_gate"])}">{_e(p["deployment_gate"])}</span>
 confidence {p["confidence"]:.3f} &middot; report ready: {_e(p["report_ready"])} &middot;
 deployment ready: {_e(p["deployment_ready"])}</p>
<h2>Payload hash</h2><span class="hash" id="payload-hash">{_e(p["payload_hash"])}</span>
<p class="muted">SHA-256 of the canonical JSON (sorted keys, no whitespace, floats rounded to 6 places) of the payload
without {_e(", ".join(p["hash_scope"].get("excluded", [])))}. Verify with
<code>app.diagnosis.verify_payload(json.load(open("report.json")))</code>.</p>
<h2>Summary</h2>{flags}
<h2>Evidence</h2>{_evidence(p["evidence"])}
<h2>Counter-evidence</h2>{_evidence(p["counter_evidence"])}
<h2>Category scores</h2>{scores}
<h2>Conflicts</h2>{
        _table(["categories", "reason"], [[_e(", ".join(c["categories"])), _e(c["reason"])] for c in p["conflicts"]])
    }
<h2>Contradictions (consistency validation)</h2>{
        _table(
            ["code", "message", "resolution"],
            [[_e(c["code"]), _e(c["message"]), _e(c["resolution"])] for c in p["contradictions"]],
        )
    }
<h2>Responsible AI</h2><p>{_e(p["responsible_ai_status"])}</p>{
        _table(
            ["protected attribute", "metric", "gap", "ratio", "concern"],
            [
                [_e(f["protected_attribute"]), _e(f["metric"]), _e(f["gap"]), _e(f["ratio"]), _e(f["concern"])]
                for f in p["fairness"]
            ],
        )
        if p["fairness"]
        else '<p class="muted">no fairness data given</p>'
    }
<h2>Remediation plan</h2>{plan_html}
<h2>Readiness questions</h2>{_readiness(p.get("readiness_questions") or [])}
<h2>Learning path</h2>{
        _table(
            ["id", "title", "certification"],
            [[_e(i["id"]), _e(i["title"]), _e(i["certification"] or "")] for i in p["learning_path"]],
        )
    }
<h2>Citations</h2>{
        _table(
            ["document", "section", "snippet", "score", "type", "scope"],
            [
                [
                    f"<code>{_e(c['path'])}</code><br>{_e(c['title'])}",
                    _e(c["section"]),
                    _e(c["snippet"]),
                    f"{c['score']:.3f}",
                    _e(c["source_type"]),
                    _e(c["permission_scope"]),
                ]
                for c in p["citations"]
            ],
        )
    }
<h2>Grounding</h2>{
        _table(
            ["provider", "proof level", "remote used", "reasoning"],
            [[_e(p["grounding"]["provider"]), _e(p["grounding"]["proof_level"]), _e(p["grounding"]["remote_used"]),
              _e(p["grounding"].get("reasoning", "local"))
              + (f" ({_e(p['grounding'].get('reasoning_model'))})" if p["grounding"].get("reasoning_model") else "")
              + (f"<br>not used: {_e(p['grounding']['reasoning_error'])}" if p["grounding"].get("reasoning_error")
                 else "")]],
        )
    }
<h2>Assumptions</h2>{"".join(f"<p>{_e(a)}</p>" for a in p["assumptions"]) or '<p class="muted">none</p>'}
<h2>Confidence formula</h2><p>{_e(p["confidence_formula"])}</p>
<h2>Similar past diagnoses</h2>{
        _table(
            ["id", "category", "team", "when", "similarity"],
            [
                [
                    _e(s["diagnosis_id"]),
                    _e(s["primary_category"]),
                    _e(s["team"]),
                    _e(s["created_at"]),
                    f"{s['similarity']:.2f}",
                ]
                for s in p["similar_past_diagnoses"]
            ],
        )
    }
<h2>Payload (JSON)</h2><pre>{_e(json.dumps(p["input"].get("record", {}), indent=1, ensure_ascii=False))}</pre>
<script type="application/json" id="mlfi-payload">{embedded}</script>
</body></html>
"""


def _readiness(questions: list[dict]) -> str:  # type: ignore[type-arg]
    if not questions:
        return '<p class="muted">none</p>'
    items = "".join(
        f"<li id=\"{_e(q['id'])}\"><p>{_e(q['question'])}</p><details><summary>Answer key "
        f"(<code>{_e(q['citation']['path'])}</code> &sect; {_e(q['citation']['section'])})</summary><ul>"
        + "".join(f"<li>{_e(a)}</li>" for a in q["answer_key"])
        + "</ul></details></li>"
        for q in questions
    )
    return f'<ol class="readiness">{items}</ol>'


def export_report(d: Diagnosis, path: str | Path) -> tuple[Path, Path]:
    """Write ``path`` (HTML) and the same stem with ``.json``; returns both paths."""
    out = Path(path)
    if out.exists() and out.is_dir():
        raise InputError(f"--export needs a file name, got a directory: {out}")
    json_path = out.with_suffix(".json") if out.suffix.lower() != ".json" else out.with_name(out.stem + ".payload.json")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(render_html(d), encoding="utf-8")
        json_path.write_text(json.dumps(d.payload(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write export {out}: {exc.strerror or exc}") from None
    return out, json_path
