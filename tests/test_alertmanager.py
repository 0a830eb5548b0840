"""Incidents to Alertmanager API v2: what is posted on open / refresh / refine / resolve; failures never stop
monitoring and are retried with the next update. (A real Alertmanager: tests/test_prometheus_real.py.)"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import EP, make_report

from app.alerting import incidents as am_incidents
from app.alerting.alertmanager import AlertmanagerClient
from app.governance import on_report
from tests.probing_unseen_stub import Req, Resp, StubServer


class _Alertmanager(StubServer):
    """Records every ``POST /api/v2/alerts`` body; answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.posts: list[list[dict[str, Any]]] = []
        super().__init__(self._app)

    def _app(self, req: Req) -> Resp:
        assert req.method == "POST" and req.path == "/api/v2/alerts"
        self.posts.append(req.body)
        return Resp(self.status, body="")


@pytest.fixture()
def am(settings, monkeypatch) -> Iterator[_Alertmanager]:
    monkeypatch.setattr(am_incidents, "CLIENT", AlertmanagerClient())     # no undelivered alerts of other tests
    with _Alertmanager() as srv:
        settings.alertmanager_url = SecretStr(f"http://user:s3cret-pw@127.0.0.1:{srv.url.rsplit(':', 1)[1]}/")
        yield srv


def _labels(alert: dict[str, Any]) -> dict[str, str]:
    return alert["labels"]


def test_open_refresh_and_resolve_reach_alertmanager(store, settings, am) -> None:
    now = time.time()
    on_report(store, make_report("accuracy_drop", severity="critical", created_at=now - 60), settings)
    (opened,) = am.posts[0]
    assert _labels(opened) == {"alertname": "MlfiIncident", "endpoint": EP, "severity": "critical",
                               "root_cause": "accuracy_drop"}
    assert opened["annotations"]["runbook_url"] == "knowledge/monitoring/playbook-retrain.md"
    assert (Path(__file__).parents[1] / opened["annotations"]["runbook_url"]).is_file()
    assert opened["annotations"]["summary"] and opened["annotations"]["description"]
    assert opened["endsAt"] > opened["startsAt"]          # firing: ends in the future unless refreshed
    on_report(store, make_report("accuracy_drop", severity="critical", created_at=now - 30), settings)
    (refreshed,) = am.posts[1]                            # the same alert again: it stays active
    assert _labels(refreshed) == _labels(opened) and refreshed["startsAt"] == opened["startsAt"]
    assert refreshed["endsAt"] >= opened["endsAt"]
    on_report(store, make_report("none", created_at=now), settings)
    (resolved,) = am.posts[2]
    assert _labels(resolved) == _labels(opened) and resolved["endsAt"] <= am_incidents.iso(time.time())
    n = len(am.posts)
    on_report(store, make_report("none", created_at=now + 1), settings)    # nothing open, nothing pending
    assert len(am.posts) == n


def test_a_refinement_resolves_the_old_labels_and_fires_the_new(store, settings, am) -> None:
    now = time.time()
    on_report(store, make_report("feature_drift", severity="low", created_at=now - 10), settings, episode="change")
    on_report(store, make_report("accuracy_drop", severity="high", created_at=now), settings, episode="ongoing")
    last = {(a["labels"]["root_cause"], a["labels"]["severity"]): a for a in am.posts[-1]}
    assert set(last) == {("accuracy_drop", "high"), ("feature_drift", "low")}
    assert last[("feature_drift", "low")]["endsAt"] <= am_incidents.iso(time.time())       # resolved
    assert last[("accuracy_drop", "high")]["endsAt"] > am_incidents.iso(time.time())        # firing


def test_an_unreachable_alertmanager_never_stops_monitoring_and_is_retried(store, settings, am, caplog_loguru) -> None:
    now = time.time()
    am.status = 503
    report = on_report(store, make_report("error_spike", severity="high", created_at=now - 20), settings)
    assert report.incident_id is not None                 # monitoring went on
    assert am_incidents.CLIENT.pending == 1
    am.status = 200
    on_report(store, make_report("none", created_at=now), settings)     # next update: the kept alert goes too
    assert am_incidents.CLIENT.pending == 0
    assert [a["labels"]["root_cause"] for a in am.posts[-1]] == ["error_spike"]   # resolved replaces firing
    assert am.posts[-1][0]["endsAt"] <= am_incidents.iso(time.time())
    text = "\n".join(caplog_loguru)
    assert "HTTP 503" in text and "s3cret-pw" not in text and "user" not in text

    settings.alertmanager_url = SecretStr("http://127.0.0.1:9/")           # nothing listens: connection refused
    t0 = time.perf_counter()
    on_report(store, make_report("latency_degradation", severity="high", created_at=now + 5), settings)
    assert time.perf_counter() - t0 < 5 and am_incidents.CLIENT.pending == 1


@pytest.fixture()
def caplog_loguru() -> Iterator[list[str]]:
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    yield lines
    logger.remove(sink)


def test_without_a_url_nothing_is_posted(store, settings, am) -> None:
    settings.alertmanager_url = None
    on_report(store, make_report("accuracy_drop", created_at=time.time()), settings)
    assert am.posts == []


def test_runbook_urls_are_absolute_under_the_base_url(store, settings, am) -> None:
    settings.runbook_base_url = "https://git.example/org/mlfi/blob/main/"
    now = time.time()
    on_report(store, make_report("accuracy_drop", severity="critical", created_at=now - 60), settings)
    on_report(store, make_report("none", created_at=now), settings)
    urls = {a["annotations"]["runbook_url"] for post in am.posts for a in post}
    assert urls == {"https://git.example/org/mlfi/blob/main/knowledge/monitoring/playbook-retrain.md"}
    assert (Path(__file__).parents[1] / urls.pop().split("/main/", 1)[1]).is_file()
