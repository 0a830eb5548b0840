"""Incidents record the change point and detection delay of a sequential alarm (issue 11)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from gov_helpers import make_report

from app.cli import main
from app.governance import list_incidents, on_report
from app.storage import Store
from app.storage import tables as t


def test_an_incident_opened_by_an_alarm_records_change_point_and_delay(store, settings):
    on_report(store, make_report("accuracy_drop", created_at=200.0), settings, change_point=(180.5, 9))
    on_report(store, make_report("accuracy_drop", created_at=230.0), settings, change_point=(220.0, 3))
    inc = list_incidents(store)[0]
    assert inc.alert_count == 2                                   # extended, not reopened
    assert (inc.change_point_at, inc.detection_delay_samples) == (180.5, 9)   # the first alarm's, kept


def test_an_incident_opened_by_the_cadence_has_no_change_point(store, settings):
    on_report(store, make_report("accuracy_drop"), settings)
    inc = list_incidents(store)[0]
    assert inc.change_point_at is None and inc.detection_delay_samples is None


def test_incidents_json_carries_the_new_fields(mlfi_env, settings, capsys):
    home_settings = type(settings)(home=mlfi_env, _env_file=None)  # type: ignore[call-arg]
    home_settings.ensure_dirs()
    home_store = Store.from_settings(home_settings)
    on_report(home_store, make_report("accuracy_drop", created_at=50.0), home_settings, change_point=(40.0, 6))
    home_store.dispose()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["incidents", "--json"])
    assert not exc.value.code
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["change_point_at"] == 40.0 and rows[0]["detection_delay_samples"] == 6
    assert isinstance(rows[0]["opened_at"], float) and rows[0]["opened_at"] == 50.0   # same format


def test_a_version_3_database_gains_the_columns(tmp_path: Path):
    db = tmp_path / "old.db"
    Store(f"sqlite:///{db}").dispose()
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE incidents DROP COLUMN change_point_at")
    con.execute("ALTER TABLE incidents DROP COLUMN detection_delay_samples")
    con.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    con.commit()
    con.close()
    st = Store(f"sqlite:///{db}")
    with st.engine.connect() as conn:
        cols = {r[1] for r in conn.execute(text("PRAGMA table_info(incidents)"))}
        version = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'")).scalar()
    st.dispose()
    assert {"change_point_at", "detection_delay_samples"} <= cols and version == str(t.SCHEMA_VERSION) == "4"
