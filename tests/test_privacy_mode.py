"""Issue 17: MLFI_STORE_INPUTS=none keeps no feature value in the database, its WAL, exports, logs or the
audit mirror; the baseline file keeps a quantile sketch (at most a tenth of the sentinels); drift still runs."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import main
from app.probing import default_probe_set_path

N = 30


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    from app.demo.model import make_server

    server = make_server("127.0.0.1", 0)
    th = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    th.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sentinel_probe_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The demo probe set's first N rows, every feature value made unique: round(v, 3) + k * 1e-9."""
    src = default_probe_set_path()
    with open(src, newline="") as fh:
        rows = list(csv.DictReader(fh))[:N]
    label = "target" if "target" in rows[0] else list(rows[0])[-1]
    sentinels: list[str] = []
    k = 0
    for r in rows:
        for col in r:
            if col == label:
                continue
            k += 1
            v = round(float(r[col]), 3) + k * 1e-9 + 1e-10
            r[col] = repr(v)
            sentinels.append(repr(v))
    assert len(set(sentinels)) == len(sentinels)
    dest = tmp_path_factory.mktemp("probe") / "sentinels.csv"
    with open(dest, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return dest, sentinels


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out


def _run_flow(url: str, probe: Path, home: Path, mode: str, monkeypatch: pytest.MonkeyPatch,
              capsys: pytest.CaptureFixture[str]) -> dict:
    monkeypatch.setenv("MLFI_HOME", str(home))
    monkeypatch.setenv("MLFI_STORE_INPUTS", mode)
    monkeypatch.delenv("MLFI_DATABASE_URL", raising=False)
    common = ["--probe-set", str(probe), "--samples", str(N), "--json"]
    rc, _ = _cli(capsys, "baseline", url + "/predict", *common)
    assert rc == 0
    rc, out = _cli(capsys, "analyze", url + "/predict", *common, "--seed", "3")
    assert rc in (0, 1)
    rc, _ = _cli(capsys, "export", "--endpoint", url + "/predict", "--out", str(home / "export.csv"))
    assert rc == 0
    return json.loads(out)


def _hits(paths: list[Path], sentinels: list[str]) -> set[str]:
    found: set[str] = set()
    for p in paths:
        data = p.read_bytes()
        found |= {s for s in sentinels if s.encode() in data}
    return found


def _files(home: Path, pattern: str = "*") -> list[Path]:
    return [p for p in home.rglob(pattern) if p.is_file()]


def test_none_leaves_no_feature_value_in_database_wal_exports_logs_or_audit(
        demo, sentinel_probe_set, tmp_path, monkeypatch, capsys):
    probe, sentinels = sentinel_probe_set
    home = tmp_path / "none"
    report = _run_flow(demo, probe, home, "none", monkeypatch, capsys)
    # drift ran on the in-memory window against the sketched baseline
    assert report["drift"]["features"], "no per-feature drift result: the sketch baseline was not used"
    db_files = _files(home / "data", "mlfi.db*")
    assert any(p.name == "mlfi.db" for p in db_files)
    others = [p for p in _files(home) if "baselines" not in p.parts]
    assert _hits(others, sentinels) == set(), "a feature value reached a file other than the baseline"
    base = _files(home / "baselines", "*.json")
    assert base and len(_hits(base, sentinels)) <= len(sentinels) // 10
    doc = json.loads(base[0].read_text())
    assert doc["feature_rows"] == [] and doc["notes"]["sketch"]["points"] == 100


def test_the_search_finds_values_that_were_stored(sentinel_probe_set, tmp_path):
    """Control: in window mode the same search finds the sentinels in the database file and its WAL."""
    from app.schemas import Sample
    from app.storage import Store

    _, sentinels = sentinel_probe_set
    st = Store(f"sqlite:///{tmp_path / 'w.db'}", store_inputs="window")
    st.add_samples([Sample(endpoint="e", ts=1.0 + i, inputs={"x": float(v)}) for i, v in enumerate(sentinels[:50])])
    assert len(_hits(_files(tmp_path, "w.db*"), sentinels[:50])) == 50
    st.dispose()
    none = Store(f"sqlite:///{tmp_path / 'n.db'}", store_inputs="none")
    none.add_samples([Sample(endpoint="e", ts=1.0 + i, inputs={"x": float(v)}) for i, v in enumerate(sentinels[:50])])
    assert _hits(_files(tmp_path, "n.db*"), sentinels[:50]) == set() and none.count_samples("e") == 50
    none.dispose()
