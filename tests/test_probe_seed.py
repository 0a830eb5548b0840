"""A re-enabled or restarted endpoint continues with fresh probe rows instead of replaying the first ones."""

from pathlib import Path

from app.storage import Endpoint
from app.watcher.scheduler import probe_seed
from app.watcher.targets import RowCache


def _rows(tmp_path: Path) -> Path:
    p = tmp_path / "probe.csv"
    p.write_text("x,label\n" + "".join(f"{i},{i % 2}\n" for i in range(200)))
    return p


def _first(cache: RowCache, path: Path, seed: int, n: int = 10) -> list[float]:
    pick = cache.picker(str(path), "label", seed=seed)
    return [float(pick()[0]["x"]) for _ in range(n)]


def test_a_new_endpoint_is_reproducible_and_a_restart_draws_other_rows(tmp_path: Path) -> None:
    path, cache = _rows(tmp_path), RowCache()
    new = Endpoint(id=3, name="m", url="http://h/p", protocol="generic")
    assert probe_seed(new) == 3 and _first(cache, path, probe_seed(new)) == _first(cache, path, probe_seed(new))
    # re-enabled after 40 probes, then again later: each schedule starts elsewhere in the row sequence
    a = Endpoint(id=3, name="m", url="http://h/p", protocol="generic", last_probe_at=1_796_600_000.25)
    b = Endpoint(id=3, name="m", url="http://h/p", protocol="generic", last_probe_at=1_796_600_020.75)
    firsts = [_first(cache, path, probe_seed(e)) for e in (new, a, b)]
    assert len({tuple(f) for f in firsts}) == 3
    assert probe_seed(a) == probe_seed(a)          # a function of the stored state, not of the clock
    other = Endpoint(id=4, name="n", url="http://h/q", protocol="generic", last_probe_at=1_796_600_000.25)
    assert probe_seed(other) != probe_seed(a)
