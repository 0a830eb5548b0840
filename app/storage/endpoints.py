"""Endpoints: the typed `Endpoint` row and the store methods that create, read, toggle and delete them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from app.errors import InputError, NotFoundError
from app.storage import tables as t

__all__ = ["Endpoint", "EndpointsMixin", "dumps"]


def dumps(obj: Any) -> str | None:
    """Compact JSON of a stored value (None stays NULL)."""
    return None if obj is None else json.dumps(obj, default=str, separators=(",", ":"))


@dataclass(frozen=True)
class Endpoint:
    """One row of the ``endpoints`` table. ``headers`` are secrets: kept out of ``repr`` and public views.

    >>> ep = Endpoint(id=1, name="m", url="http://h/p", protocol="generic", headers={"Authorization": "x"})
    >>> "Authorization" in repr(ep), ep.probed, ep.without_secrets().headers
    (False, True, {})
    """

    id: int
    name: str
    url: str | None = None
    protocol: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    probe_set: str | None = None
    label_column: str | None = None
    model_name: str | None = None
    interval_s: float = 5.0
    enabled: bool = True
    created_at: float = 0.0
    last_probe_at: float | None = None
    last_status: str | None = None
    consecutive_failures: int = 0

    @classmethod
    def from_row(cls, row: Any) -> Endpoint:
        d = dict(row)
        raw = d.pop("headers_json", None)
        return cls(**{**d, "enabled": bool(d["enabled"]), "consecutive_failures": int(d["consecutive_failures"] or 0)},
                   headers=json.loads(raw) if raw else {})

    @property
    def probed(self) -> bool:
        """Has a URL and is not fed by ingest: the watcher probes it."""
        return bool(self.url) and self.protocol != "ingest"

    def without_secrets(self) -> Endpoint:
        """The same endpoint with no header values (for caches and pages)."""
        return replace(self, headers={})


class EndpointsMixin:
    """Store methods over the ``endpoints`` table (a `Store` provides ``engine``)."""

    engine: Engine

    def upsert_endpoint(self, name: str, *, url: str | None = None, protocol: str | None = None,
                        headers: dict[str, str] | None = None, probe_set: str | None = None,
                        label_column: str | None = None, model_name: str | None = None,
                        interval_s: float | None = None, enabled: bool | None = None) -> Endpoint:
        """Create the endpoint or update the given (non-None) fields; returns the stored row."""
        if not name or not name.strip():
            raise InputError("endpoint name must not be empty")
        values: dict[str, Any] = {"url": url, "protocol": protocol, "probe_set": probe_set,
                                  "label_column": label_column, "model_name": model_name,
                                  "interval_s": interval_s, "enabled": enabled}
        if headers is not None:
            values["headers_json"] = dumps(headers)
        for what, value in (("endpoint name", name), ("endpoint URL", url or "")):
            if len(value) > t.NAME_MAX:
                raise InputError(f"{what} is too long ({len(value)} characters, at most {t.NAME_MAX})")
        values = {k: v for k, v in values.items() if v is not None}
        for attempt in (1, 2):
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(select(t.endpoints.c.id).where(t.endpoints.c.name == name)).first()
                    if row is None:
                        conn.execute(t.endpoints.insert().values(name=name, created_at=time.time(),
                                                                 consecutive_failures=0,
                                                                 **{"interval_s": 5.0, "enabled": True, **values}))
                    elif values:
                        conn.execute(t.endpoints.update().where(t.endpoints.c.id == row[0]).values(**values))
                break
            except IntegrityError:
                if attempt == 2:     # another process inserted the same new name first: update its row
                    raise
        return self.get_endpoint(name)

    def get_endpoint(self, name: str) -> Endpoint:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.endpoints).where(t.endpoints.c.name == name)).mappings().first()
        if row is None:
            raise NotFoundError(f"unknown endpoint: {name}")
        return Endpoint.from_row(row)

    def find_endpoint(self, name: str) -> Endpoint | None:
        try:
            return self.get_endpoint(name)
        except NotFoundError:
            return None

    def list_endpoints(self, *, enabled_only: bool = False) -> list[Endpoint]:
        q = select(t.endpoints).order_by(t.endpoints.c.id)
        if enabled_only:
            q = q.where(t.endpoints.c.enabled.is_(True))
        with self.engine.connect() as conn:
            return [Endpoint.from_row(r) for r in conn.execute(q).mappings()]

    def set_enabled(self, name: str, enabled: bool) -> None:
        ep = self.get_endpoint(name)
        with self.engine.begin() as conn:
            conn.execute(t.endpoints.update().where(t.endpoints.c.id == ep.id).values(enabled=enabled))

    def delete_endpoint(self, name: str) -> None:
        ep = self.get_endpoint(name)
        with self.engine.begin() as conn:
            for tbl in (t.samples, t.reports, t.baselines, t.incidents, t.recommendations, t.sensitivity):
                conn.execute(tbl.delete().where(tbl.c.endpoint_id == ep.id))
            conn.execute(t.endpoints.delete().where(t.endpoints.c.id == ep.id))

    def record_probe_status(self, endpoint_id: int, ts: float, status: str, failures: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.endpoints.update().where(t.endpoints.c.id == endpoint_id).values(
                last_probe_at=ts, last_status=status, consecutive_failures=failures))

    def _endpoint_id(self, name: str, create: bool = True) -> int:
        ep = self.find_endpoint(name)
        if ep is None:
            if not create:
                raise NotFoundError(f"unknown endpoint: {name}")
            ep = self.upsert_endpoint(name)
        return ep.id
