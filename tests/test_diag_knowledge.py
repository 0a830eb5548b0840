"""Knowledge base: chunking, BM25 against its formula, real citations, scopes, and the Azure AI Search provider
against a stand-in HTTP server on loopback (grounding says remote only when the remote answered in this run)."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.config import REPO_ROOT, Settings
from app.diagnosis import diagnose
from app.knowledge import BM25, LocalProvider, build_retriever, load_corpus, tokenize
from app.knowledge.providers import AzureSearchProvider
from app.knowledge.retriever import Retriever

KEY = "s3cr3t-test-key-0123"


def test_corpus_chunks_by_section_with_front_matter() -> None:
    chunks = [c for c in load_corpus() if c.doc_id == "playbook-data-leakage"]
    assert [c.section for c in chunks][:3] == ["Summary", "Symptoms", "Numeric signals"]
    assert {c.category for c in chunks} == {"data_leakage"} and {c.permission_scope for c in chunks} == {"public"}
    assert chunks[0].path == "knowledge/playbooks/data_leakage.md"


def test_bm25_matches_the_okapi_formula() -> None:
    docs = [
        tokenize(t)
        for t in (
            "leakage from a future feature",
            "overfitting gap between train and validation",
            "leakage leakage via duplicated rows",
            "class imbalance and recall",
        )
    ]
    m = BM25(k1=1.2, b=0.75).fit(docs)
    q = tokenize("leakage rows")
    avg = sum(map(len, docs)) / len(docs)
    expected = []
    for d in docs:
        s = 0.0
        for t in set(q):
            n = sum(t in x for x in docs)
            tf = d.count(t)
            s += math.log(1 + (len(docs) - n + 0.5) / (n + 0.5)) * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len(d) / avg))
        expected.append(s)
    assert list(m.scores(q)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="b must be in"):
        BM25(b=2.0)


def test_citations_name_real_files_and_sections() -> None:
    p = diagnose(prompt="train 99% / validation 71%, I worry about leakage").payload()
    assert p["citations"]
    for c in p["citations"]:
        text = (REPO_ROOT / c["path"]).read_text(encoding="utf-8")
        assert f"# {c['section']}" in text, c
        assert c["snippet"] and " ".join(c["snippet"].rstrip("…").split()[:4]) in " ".join(text.split())
        assert c["source_type"] in ("playbook", "taxonomy", "learning_path", "signature")
        assert c["permission_scope"] == "public"
    assert p["citations"][0]["doc_id"] == "playbook-overfitting"


def test_permission_scope_filters_documents(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nid: a\ntitle: A\ncategory: x\npermission_scope: public\n---\n## S\nleakage\n")
    (tmp_path / "b.md").write_text(
        "---\nid: b\ntitle: B\ncategory: x\npermission_scope: team:secret\n---\n## S\nleakage\n"
    )
    assert [c.doc_id for c in LocalProvider(tmp_path).search("leakage")] == ["a"]
    both = LocalProvider(tmp_path, allowed_scopes=("public", "team:secret"))
    assert sorted(c.doc_id for c in both.search("leakage")) == ["a", "b"]


class _StandIn(BaseHTTPRequestHandler):
    response: tuple[int, Any] = (200, {"value": []})
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append({"path": self.path, "key": self.headers.get("api-key"), "body": body})
        status, payload = type(self).response
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def search_server() -> Iterator[tuple[str, type[_StandIn]]]:
    handler = type("Handler", (_StandIn,), {"seen": [], "response": (200, {"value": []})})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def _settings(url: str) -> Settings:
    return Settings(azure_search_endpoint=url, azure_search_index="ml-failures", azure_search_key=KEY, _env_file=None)  # type: ignore[call-arg]


HIT = {
    "@search.score": 7.5,
    "id": "kb-17",
    "title": "Leakage review 2023",
    "path": "wiki/leakage-2023.md",
    "section": "Findings",
    "content": "The renewal flag was computed after the outcome.",
    "category": "overfitting",
    "permission_scope": "internal",
}


def test_remote_results_are_used_and_claimed(search_server: tuple[str, type[_StandIn]]) -> None:
    url, handler = search_server
    handler.response = (200, {"value": [HIT, {**HIT, "id": "kb-18", "permission_scope": "team:other"}]})
    p = diagnose(prompt="train 99% / validation 71%", settings=_settings(url)).payload()
    assert p["grounding"]["provider"] == "azure_ai_search" and p["grounding"]["remote_used"] is True
    assert p["grounding"]["proof_level"] == "remote_search_results"
    remote = [c for c in p["citations"] if c["source_type"] == "azure_ai_search"]
    assert [c["doc_id"] for c in remote] == ["kb-17"], "documents outside the allowed scopes are never cited"
    req = handler.seen[0]
    assert req["path"].startswith("/indexes/ml-failures/docs/search?api-version=") and req["key"] == KEY
    assert req["body"]["top"] == 3 and "overfitting" in req["body"]["search"]
    assert KEY not in json.dumps(p)


def test_remote_failure_falls_back_to_local_and_says_so(
    search_server: tuple[str, type[_StandIn]], capfd: pytest.CaptureFixture[str]
) -> None:
    url, handler = search_server
    handler.response = (503, {"error": "down"})
    p = diagnose(prompt="train 99% / validation 71%", settings=_settings(url)).payload()
    g = p["grounding"]
    assert (g["provider"], g["proof_level"], g["remote_used"]) == ("local", "local_knowledge_base", False)
    assert g["remote_configured"] is True and "HTTP 503" in g["remote_error"]
    assert all(c["source_type"] != "azure_ai_search" for c in p["citations"])
    out, err = capfd.readouterr()
    assert KEY not in out + err + json.dumps(p)


def test_remote_with_no_hits_is_not_claimed(search_server: tuple[str, type[_StandIn]]) -> None:
    url, _ = search_server
    r = build_retriever(_settings(url))
    assert r.search("leakage") and r.grounding.remote_used is False and r.grounding.remote_error is None


def test_unreachable_remote_and_repr_hide_the_key() -> None:
    prov = AzureSearchProvider("http://127.0.0.1:9", "idx", KEY, timeout_s=0.5)
    assert KEY not in repr(prov)
    r = Retriever(LocalProvider(), prov)
    assert r.search("overfitting") and r.grounding.remote_used is False
    assert "unreachable" in (r.grounding.remote_error or "") and KEY not in (r.grounding.remote_error or "")
