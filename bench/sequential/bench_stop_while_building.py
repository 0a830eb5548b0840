"""How long `mlfi watch` takes to stop when SIGTERM / SIGINT arrives while it builds its sequential monitors.

``--endpoints`` endpoints, each with its own 150-sample baseline (as in ``bench_owner_stall.py``), probed every
second at a closed port (every probe fails at once: each endpoint's first sample still asks for its monitor).
`python -m app watch` runs in its own process; the signal is sent as soon as its log shows the first monitor built.
``--tree DIR`` runs an exported older tree instead (``git archive REV | tar -x -C DIR``; DIR/.venv not needed: this
interpreter runs it).

    PYTHONPATH=. .venv/bin/python bench/sequential/bench_stop_while_building.py [--tree DIR]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from bench_owner_stall import _law, _sample

from app.config import Settings
from app.detection.baseline import learn_baseline
from app.storage import Store
from app.storage.baselines import save_baseline


def _home(n: int) -> Path:
    home = Path(tempfile.mkdtemp(prefix="mlfi-stop-"))
    settings = Settings(home=home, _env_file=None)  # type: ignore[call-arg]
    store = Store.from_settings(settings)
    probes = home / "probes.csv"
    probes.write_text("a,b,target\n" + "\n".join(f"{i},{i * 2},{i % 2}" for i in range(50)) + "\n")
    for i in range(n):
        name = f"ep{i:03d}"
        store.upsert_endpoint(name, url=f"http://127.0.0.1:9/{name}", protocol="generic", probe_set=str(probes),
                              label_column="target", interval_s=1.0)
        rng = np.random.default_rng(i)
        save_baseline(settings, store, learn_baseline(name, [_sample(name, _law(i), rng) for _ in range(150)]))
    store.dispose()
    return home


def _stop(tree: Path, sig: signal.Signals, n: int) -> str:
    home = _home(n)
    log = home / "watch.log"
    old = signal.signal(signal.SIGINT, signal.default_int_handler)   # the child starts with SIGINT at its default
    try:
        with open(log, "w") as err:
            proc = subprocess.Popen([sys.executable, "-m", "app", "watch"], cwd=tree, stdout=subprocess.DEVNULL,
                                    stderr=err, env={**os.environ, "MLFI_HOME": str(home), "PYTHONPATH": str(tree)})
    finally:
        signal.signal(signal.SIGINT, old)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and "sequential monitor for" not in log.read_text():
        time.sleep(0.05)
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        rc: int | str = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "still running after 120 s (killed)"
    took = time.monotonic() - t0
    return (f"{sig.name}: exit {rc} after {took:.2f} s; monitors built by then "
            f"{log.read_text().count('sequential monitor for')} of {n}; load {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--endpoints", type=int, default=30)
    ap.add_argument("--tree", default=str(REPO), help="source tree to run `python -m app watch` from")
    a = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT):
        print(_stop(Path(a.tree), sig, a.endpoints), flush=True)


if __name__ == "__main__":
    main()
