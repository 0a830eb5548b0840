"""The watcher's sequential episodes (issue 11 items 1-2), in process: MLFI_FALSE_ALARM_EVERY drives the
thresholds; alarms become hints (change at once, one follow-up, recovery); an episode makes one change."""

from __future__ import annotations

import random
from collections import deque

import pytest

from app.config import Settings
from app.detection.sequential import MonitorBaseline, SequentialMonitor
from app.schemas import Sample
from app.watcher.sequential import MIN_ALARM_WINDOW, SequentialWatch


def _watch(tmp_path, every: float = 10_000.0) -> tuple[SequentialWatch, SequentialMonitor]:
    settings = Settings(home=tmp_path, false_alarm_every=every, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=None)  # type: ignore[arg-type]   # the store is only read for baselines
    mon = SequentialMonitor(MonitorBaseline(error_rate=0.0, accuracy=0.99), false_alarm_every=w.false_alarm_every)
    w.monitors[1], w._ts[1] = mon, deque(maxlen=5000)
    return w, mon


def _samples(rng: random.Random, n: int, acc: float, t0: int) -> list[tuple[int, Sample]]:
    out = []
    for i in range(n):
        right = rng.random() < acc
        out.append((1, Sample(endpoint="e", ts=float(t0 + i), prediction="1", label="1" if right else "0")))
    return out


def test_false_alarm_every_sets_the_threshold(tmp_path):
    low, _ = _watch(tmp_path, 100.0)
    high, _ = _watch(tmp_path, 1e6)
    assert low.monitors[1].detectors["correctness"].threshold < high.monitors[1].detectors["correctness"].threshold
    assert high.monitors[1].detectors["correctness"].false_alarm_every == 2e6      # x the 2 signals


@pytest.mark.parametrize("value", ["5", "0", "-1", "nan", "abc", "1e13"])
def test_a_bad_false_alarm_every_is_refused_at_start(value, monkeypatch, tmp_path, capsys):
    from app.cli import main

    monkeypatch.setenv("MLFI_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("MLFI_FALSE_ALARM_EVERY", value)
    with pytest.raises(SystemExit) as exc:
        main(["incidents", "--json"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "MLFI_FALSE_ALARM_EVERY" in err[0]
    assert "Traceback" not in err[0]


def test_change_follow_up_and_recovery_make_one_episode(tmp_path):
    w, _mon = _watch(tmp_path)
    rng = random.Random(7)
    assert w.feed(_samples(rng, 300, 0.99, 0)) == {}             # healthy: no hint
    hints = []
    for i, s in enumerate(_samples(rng, 60, 0.5, 300)):          # -49 points
        h = w.feed([s])
        hints += [(300 + i, h[1]) for _ in h]
    kinds = [h.kind for _, h in hints]
    assert kinds[:2] == ["change", "more"], kinds                 # at once, then the follow-up
    (at, change), (_at2, more) = hints[0], hints[1]
    assert at - 300 < 20 and change.delay_samples <= at - 299      # near the CUSUM bound (~7 samples)
    assert 297 <= change.change_point_at <= at                    # a stored sample's time, near the switch
    assert more.since_samples == MIN_ALARM_WINDOW and more.change_point_at == change.change_point_at
    assert set(w.ongoing()) == {1} and w.ongoing()[1].kind == "ongoing" and not w.ongoing()[1].due
    # a cadence analysis inside the episode reads the samples since its change point, not a straddling window
    assert w.ongoing()[1].since_samples == change.since_samples + 360 - (at + 1)
    healed = []
    for i, s in enumerate(_samples(rng, 400, 0.99, 400)):
        h = w.feed([s])
        healed += [(400 + i, h[1]) for _ in h]
    assert [h.kind for _, h in healed] == ["recovered"]
    assert healed[0][1].change_point_at >= 400 - 3 and w.ongoing() == {}


def test_a_blip_of_another_signal_inside_the_episode_is_the_same_change(tmp_path):
    w, _mon = _watch(tmp_path)
    rng = random.Random(3)
    w.feed(_samples(rng, 200, 0.99, 0))
    got = {}
    for i, s in enumerate(_samples(rng, 40, 0.5, 200)):
        got.update(w.feed([s]))
    errs = [(1, Sample(endpoint="e", ts=300.0 + i, error_kind="http_500")) for i in range(15)]
    more = {}
    for s in errs:
        more.update(w.feed([s]))
    assert more and more[1].kind == "more" and more[1].episode == "change"
    assert more[1].change_point_at == got[1].change_point_at     # dated by the first change


def _report(head: str, sev: str, *others: tuple[str, str]):
    from app.schemas import RCA, Metrics, Report

    ev = [f"rule r{i} -> {c} ({s})" for i, (c, s) in enumerate([(head, sev), *others])]
    return Report(endpoint="e", metrics=Metrics(), rca=RCA(root_cause=head, severity=sev,
                  contributing=[c for c, _ in others], evidence=ev, failure_reason="old reason."))


def test_the_headline_is_the_worst_finding_active_now():
    from app.analysis.headline import headline

    # errors stopped (the errors signal is healthy again), latency is failing now: latency heads it
    r = headline(_report("error_spike", "high", ("latency_degradation", "medium"), ("feature_drift", "critical")),
                 watched={"errors", "latency"}, failing={"latency"})
    assert (r.rca.root_cause, r.rca.severity) == ("feature_drift", "critical")   # no signal covers it: active
    assert r.also_changed == [{"root_cause": "error_spike", "severity": "high", "active": False},
                              {"root_cause": "latency_degradation", "severity": "medium", "active": True}]
    r = headline(_report("error_spike", "high", ("latency_degradation", "medium")),
                 watched={"errors", "latency"}, failing={"latency"})
    assert r.rca.root_cause == "latency_degradation" and r.rca.contributing == ["error_spike"]
    assert r.rca.failure_reason.endswith("old reason.")
    r = headline(_report("error_spike", "high"), watched={"errors"}, failing=set())     # nothing active: unchanged
    assert (r.rca.root_cause, r.also_changed) == ("error_spike", [])


def test_a_relearned_baseline_rebuilds_the_monitor(tmp_path, monkeypatch):
    from app.schemas import Baseline, Metrics

    acc = {1: 0.99, 2: 0.6}                                       # v2: the new normal is 60 % accuracy
    rows = [{"version": 1, "active": 1}]

    class _Store:
        def baseline_versions(self, name):
            return list(rows)

    def load(settings, store, name):
        v = rows[-1]["version"]
        n = 200
        return Baseline(endpoint=name, version=v, n_samples=n, metrics=Metrics(error_rate=0.0),
                        correct=[int(i < acc[v] * n) for i in range(n)])

    monkeypatch.setattr("app.storage.baselines.load_baseline", load)
    settings = Settings(home=tmp_path, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=_Store())  # type: ignore[arg-type]
    rng = random.Random(5)
    w.feed(_samples(rng, 50, 0.99, 0))
    first = w.monitors[1]
    assert first.baseline.accuracy == pytest.approx(0.99)
    kinds = []
    for s in _samples(rng, 30, 0.6, 50):                          # the change, then the baseline is re-learned
        kinds += [h.kind for h in w.feed([s]).values()]
    assert kinds[:1] == ["change"] and w.ongoing()
    rows.append({"version": 2, "active": 1})
    hints = {}
    for s in _samples(rng, 400, 0.6, 80):                         # the new normal: no second alarm, no episode
        hints.update(w.feed([s]))
    assert w.monitors[1] is not first and w.monitors[1].baseline.accuracy == pytest.approx(0.6)
    assert hints == {} and w.ongoing() == {}


def test_the_incident_resolves_when_its_opening_signal_heals_even_if_another_stays_in_alarm(tmp_path):
    """Seen in the screenshots run: a class-mix alarm against a 60-sample baseline never read "back", and the
    accuracy incident stayed open 10 minutes after the model healed. Here the error signal stays in alarm."""
    w, mon = _watch(tmp_path)
    rng = random.Random(11)
    w.feed(_samples(rng, 300, 0.99, 0))
    kinds = []
    for i, s in enumerate(_samples(rng, 60, 0.5, 300)):
        kinds += [h.kind for h in w.feed([s]).values()]
    assert kinds and kinds[0] == "change"
    t = 400
    for _ in range(40):                                            # errors join the episode and stay
        kinds += [h.kind for h in w.feed([(1, Sample(endpoint="e", ts=float(t), error_kind="http_500"))]).values()]
        t += 1
    assert "errors" in mon.failing and "correctness" in mon.failing
    healed = []
    for s in _samples(rng, 600, 0.99, t):                         # labelled answers are right again,
        h = w.feed([s])                                           # one request in three still fails
        healed += [x.kind for x in h.values()]
        if rng.random() < 0.5:
            healed += [x.kind for x in w.feed([(1, Sample(endpoint="e", ts=s[1].ts, error_kind="http_500"))]).values()]
    assert "errors" in mon.failing and "correctness" not in mon.failing
    assert healed.count("recovered") == 1 and w.ongoing() == {}


def test_a_quantile_signal_stuck_in_alarm_does_not_hold_an_accuracy_incident_open(tmp_path):
    """The class-mix CUSUM fires first (its baseline share is an estimate) and never reads back; the accuracy
    change that followed heals: the incident resolves."""
    settings = Settings(home=tmp_path, false_alarm_every=10_000.0, _env_file=None)  # type: ignore[call-arg]
    w = SequentialWatch(settings, store=None)  # type: ignore[arg-type]
    mon = SequentialMonitor(MonitorBaseline(error_rate=0.0, accuracy=0.99, class_shares={"0": 0.3, "1": 0.7}),
                            false_alarm_every=w.false_alarm_every)
    w.monitors[1], w._ts[1] = mon, deque(maxlen=5000)
    rng = random.Random(5)

    def sample(t: int, acc: float, p0: float) -> tuple[int, Sample]:
        pred = "0" if rng.random() < p0 else "1"
        right = rng.random() < acc
        return 1, Sample(endpoint="e", ts=float(t), prediction=pred, label=pred if right else ("1" if pred == "0" else "0"))

    kinds = [h.kind for t in range(400) for h in w.feed([sample(t, 0.99, 0.45)]).values()]   # the share is 45 %
    assert kinds[:1] == ["change"] and w._episode[1].signal == "class_mix"
    kinds += [h.kind for t in range(400, 460) for h in w.feed([sample(t, 0.5, 0.45)]).values()]
    assert "correctness" in mon.failing
    healed = [h.kind for t in range(460, 1400) for h in w.feed([sample(t, 0.99, 0.45)]).values()]
    assert "class_mix" in mon.failing and "correctness" not in mon.failing
    assert healed.count("recovered") == 1 and w.ongoing() == {}


def test_after_a_recovery_cadence_analyses_read_only_the_healed_samples(tmp_path):
    """Seen in the screenshots run: the sequential test resolved the incident, then the cadence analysis of the
    usual window (still holding the failure) opened a second, short incident for the same change. Until a whole
    window of healed samples is written, a cadence analysis reads only those (``settling``), tracked as usual."""
    w, _mon = _watch(tmp_path)
    rng = random.Random(7)
    w.feed(_samples(rng, 300, 0.99, 0))
    for s in _samples(rng, 60, 0.5, 300):
        w.feed([s])
    recovered_at, healed = None, None
    for i, s in enumerate(_samples(rng, 400, 0.99, 400)):
        h = w.feed([s])
        if h and h[1].kind == "recovered":
            recovered_at, healed = 400 + i, h[1]
            break
    assert recovered_at is not None and healed is not None
    settling = w.ongoing()[1]
    assert (settling.kind, settling.due, settling.episode) == ("settling", False, None)
    since = settling.since_samples
    assert since is not None and 1 <= since <= recovered_at - int(healed.change_point_at) + 2
    w.feed(_samples(rng, 10, 0.99, recovered_at + 1))
    assert w.ongoing()[1].since_samples == since + 10               # counts the healed samples written since
    w.feed(_samples(rng, w.window_size, 0.99, recovered_at + 11))
    assert w.ongoing() == {}                                         # a whole window healed: the usual window


def test_a_settling_analysis_waits_for_enough_healed_samples(tmp_path):
    from app.watcher.analysis_job import AnalysisJob
    from app.watcher.sequential import AlarmHint

    job = AnalysisJob(Settings(home=tmp_path, _env_file=None), store=None)  # type: ignore[call-arg, arg-type]
    ep = type("Ep", (), {"name": "http://x/predict", "id": 1})()
    early = AlarmHint("settling", "correctness", 0.0, 0, MIN_ALARM_WINDOW - 1)
    out = job.analyze(ep, early)   # returns before it reads anything: the usual window still holds the failure
    assert out.action == "waiting" and "settling" in out.detail
