"""Probe sets from CSV, seeded sampling, payload templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from app.errors import InputError
from app.probing import ProbeSet, ProbeTarget, default_probe_set_path, probe_once, render_template


def test_demo_probe_set_is_the_breast_cancer_hold_out() -> None:
    ps = ProbeSet.from_csv(default_probe_set_path())
    data = load_breast_cancer()
    assert ps.features == [str(n) for n in data.feature_names] and ps.label_column == "target"
    assert 180 <= len(ps) <= 220 and ps.labels is not None and set(ps.labels) == {0, 1}
    # every probe row is a real row of the dataset
    real = {tuple(round(float(v), 6) for v in r) for r in data.data}
    assert all(tuple(round(float(v), 6) for v in rec.values()) in real for rec in ps.records)


def test_rows_are_seeded_and_cycle(tmp_path: Path) -> None:
    ps = ProbeSet.from_csv(default_probe_set_path())
    a, b, c = ps.rows(450, seed=1), ps.rows(450, seed=1), ps.rows(450, seed=2)
    assert a == b and a != c and len(a) == 450
    first = [json.dumps(r, sort_keys=True) for r, _ in a[: len(ps)]]
    assert len(set(first)) == len(ps)  # a full pass covers every row once before repeating


def test_unlabelled_and_explicit_label_column(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("x,y,outcome\n1,a,yes\n2,b,no\n")
    ps = ProbeSet.from_csv(p)
    assert ps.labels is None and ps.features == ["x", "y", "outcome"]
    ps = ProbeSet.from_csv(p, label_column="outcome")
    assert ps.features == ["x", "y"] and ps.rows(2, seed=0)[0][1] in ("yes", "no")


@pytest.mark.parametrize("content, message", [(None, "not found"), ("", "cannot read"), ("a,b\n", "no rows"),
                                              ("target\n1\n", "no feature columns")])
def test_bad_probe_sets(tmp_path: Path, content: str | None, message: str) -> None:
    p = tmp_path / "p.csv"
    if content is not None:
        p.write_text(content)
    with pytest.raises(InputError, match=message):
        ProbeSet.from_csv(p)


def test_unknown_label_column_and_bad_n() -> None:
    with pytest.raises(InputError, match="label column 'nope'"):
        ProbeSet.from_csv(default_probe_set_path(), label_column="nope")
    ps = ProbeSet.from_csv(default_probe_set_path())
    for n in (0, -3, "10", 2.5, True):
        with pytest.raises(InputError, match="positive integer"):
            ps.rows(n, seed=0)  # type: ignore[arg-type]
    assert ps.missing(["mean radius", "colour"]) == ["colour"]


def test_template_validation_and_rendering(tmp_path: Path) -> None:
    tpl = tmp_path / "t.json"
    tpl.write_text(json.dumps({"instances": [{"r": "{{mean radius}}", "all": "{{values}}"}], "tag": "probe-{{target}}"}))
    with pytest.raises(InputError, match="not in the probe set: target"):
        ProbeSet.from_csv(default_probe_set_path(), template=tpl)
    tpl.write_text(json.dumps({"instances": [{"r": "{{mean radius}}", "n": "{{ mean area }}"}]}))
    ps = ProbeSet.from_csv(default_probe_set_path(), template=tpl)
    row, _ = ps.rows(1, seed=0)[0]
    out = render_template(ps.template, row)
    assert out == {"instances": [{"r": row["mean radius"], "n": row["mean area"]}]}
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        ProbeSet.from_csv(default_probe_set_path(), template=bad)


def test_template_is_what_goes_on_the_wire() -> None:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("probing_replay", Path(__file__).parent / "fixtures/recorded/replay.py")
    replay = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["probing_replay"] = replay
    spec.loader.exec_module(replay)  # type: ignore[union-attr]
    with replay.ReplayServer({("POST", "/score"): replay.Route(200, {"result": {"label": "1", "probability": 0.9}})}) as srv:
        t = ProbeTarget(name="t", url=srv.url + "/score", protocol="generic", headers={},
                        payload_template={"payload": {"x": "{{a}}", "meta": "id-{{b}}"}})
        s = probe_once(t, {"a": 2.5, "b": 7}, None)
        assert srv.seen[0].body == {"payload": {"x": 2.5, "meta": "id-7"}}
    assert s.prediction == "1" and s.confidence == pytest.approx(0.9)
