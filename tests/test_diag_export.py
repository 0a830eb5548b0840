"""The HTML export is self-contained, escapes user text and shows the same payload_hash as the JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.diagnosis import diagnose, verify_payload
from app.diagnosis.export import export_report, render_html
from app.errors import InputError

XSS = "Train accuracy 99%, validation 70%. `<script>alert(1)</script>` <img src=x onerror=alert(2)>"


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    d = diagnose(prompt=XSS)
    html = render_html(d)
    assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"""(src|href)=["']?https?://""", html), "no external assets"
    assert html.count("<script") == 1 and 'type="application/json"' in html
    embedded = re.search(r'<script type="application/json" id="mlfi-payload">(.*)</script>', html, re.DOTALL)
    assert embedded
    assert "<" not in embedded.group(1)
    payload = json.loads(embedded.group(1))
    assert verify_payload(payload) and payload["payload_hash"] in html.split('id="payload-hash">')[1][:80]


def test_export_paths(tmp_path: Path) -> None:
    d = diagnose(prompt="Train accuracy 0.99, validation accuracy 0.7.")
    html, js = export_report(d, tmp_path / "r.html")
    assert html.read_text().startswith("<!DOCTYPE html>") and json.loads(js.read_text()) == d.payload()
    html2, js2 = export_report(d, tmp_path / "r.json")
    assert js2.name == "r.payload.json" and json.loads(js2.read_text())["payload_hash"] == d.payload_hash
    with pytest.raises(InputError, match="needs a file name"):
        export_report(d, tmp_path)
