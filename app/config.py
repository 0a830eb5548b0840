"""Settings: one object, built once per entry point, from `MLFI_*` env vars and an optional `.env`."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RAW_RETENTION_MARGIN", "REPO_ROOT", "Settings", "parse_duration"]

REPO_ROOT = Path(__file__).resolve().parents[1]
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")   # loguru's
RAW_RETENTION_MARGIN = 4.0      # default raw retention = this x what the window + the sequential pass read
RAW_RETENTION_FLOOR_S = 3600.0  # ... and never less than an hour
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as ``90``, ``45s``, ``30m``, ``6h``, ``90d``, ``2w``.

    >>> parse_duration("90d"), parse_duration("1.5h"), parse_duration(60)
    (7776000.0, 5400.0, 60.0)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smhdw]?)\s*", str(value).lower())
        if not m:
            raise ValueError(f"must be a duration such as 6h or 90d, got {str(value)[:20]!r}")
        seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"must be a positive duration, got {str(value)[:20]!r}")
    return seconds


class Settings(BaseSettings):
    """All configuration of mlfi. Nothing else in the code reads ``os.environ``."""

    model_config = SettingsConfigDict(env_prefix="MLFI_", env_file=".env", extra="ignore")

    home: Path | None = Field(default=None, description="Directory holding ALL state; default: repo data/ + baselines/")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under the state dir")
    log_level: str = "INFO"

    # probing
    probe_timeout_s: float = 5.0
    probe_samples: int = 150

    # watcher
    watch_interval_s: float = 5.0
    # variable sampling interval: an endpoint whose sequential test nears its threshold, or whose incident's
    # recovery test runs, is probed this often instead (never more often than its own interval)
    fast_interval_s: float = 1.0
    watch_concurrency: int = 32
    analysis_every_s: float = 30.0
    window_size: int = 150
    heartbeat_every_s: float = 2.0
    lease_ttl_s: float = 15.0         # PostgreSQL: an endpoint lease lasts this long unless renewed (heartbeat)
    backoff_max_s: float = 60.0

    # statistics
    alpha: float = 0.05
    # sequential detection: expected healthy samples between two false alarms of one endpoint (all its
    # signals together: each signal's detector gets this times the number of signals)
    false_alarm_every: float = 10_000.0

    # storage: how long raw samples (inputs included) and per-minute aggregates are kept, and whether
    # feature values are written at all (none: never; window: only as long as raw_retention; all: forever)
    raw_retention: float | None = Field(default=None, description="seconds or 6h/2d; default: raw_retention_s")
    aggregate_retention: float = Field(default=90 * 86400.0, description="seconds or 90d")
    store_inputs: Literal["none", "window", "all"] = "window"

    # incidents: healthy reports in a row needed to close an open incident
    incident_resolve_after: int = Field(default=1, ge=1)

    # incident notifications (opened / resolved): a secret, incoming-webhook URLs embed their token
    alert_webhook_url: SecretStr | None = None
    alert_timeout_s: float = Field(default=5.0, gt=0)
    # Alertmanager API v2 (base URL, e.g. http://alertmanager:9093): incidents become alerts; may embed credentials
    alertmanager_url: SecretStr | None = None
    alertmanager_timeout_s: float = Field(default=2.0, gt=0, description="short: monitoring never waits long")
    # where the repository's docs are served (e.g. https://git.example/org/mlfi/blob/main/): alerts then carry
    # absolute runbook URLs; unset, they carry the playbook's path in the repository
    runbook_base_url: str | None = None

    # audit log: HMAC key for the hash chain and for signed checkpoints; keep it outside the state dir
    audit_key: SecretStr | None = None

    # governance executors
    webhook_url: str | None = None
    command_hook: str | None = None
    operator_name: str | None = None
    # dashboard behind an authenticating proxy (oauth2-proxy, IAP, ...): the header carrying the signed-in
    # user; when set, decisions in the dashboard need it and the name is taken from it, never typed
    trusted_user_header: str | None = None

    # optional remote grounding (Azure AI Search REST)
    azure_search_endpoint: str | None = None
    azure_search_index: str | None = None
    azure_search_key: SecretStr | None = None   # SecretStr: masked in repr, logs and tracebacks

    # optional reasoning model: any OpenAI-compatible chat-completions server fills the experiment record
    reasoning_url: str | None = None            # base URL (.../v1) or the full .../chat/completions URL
    reasoning_model: str | None = None
    reasoning_api_key: SecretStr | None = None  # a secret: sent as a header, never logged or shown
    reasoning_timeout_s: float = Field(default=30.0, gt=0)

    # HTTP service (`mlfi serve-api`)
    api_max_body_bytes: int = Field(default=20 * 1024 * 1024, gt=0, description="413 above this request size")
    metrics_public: bool = Field(default=False, description="GET /metrics without a token (default: read scope)")

    @field_validator("probe_timeout_s", "watch_interval_s", "analysis_every_s", "window_size", "watch_concurrency",
                     "backoff_max_s", "heartbeat_every_s", "probe_samples", "lease_ttl_s")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(f"must be > 0, got {v}")
        return v

    @field_validator("reasoning_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is not None and not v.strip().lower().startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {v[:40]!r}")
        return v.strip() if v is not None else None

    @field_validator("runbook_base_url", mode="before")
    @classmethod
    def _runbook_base(cls, v: Any) -> str | None:
        """An absolute http(s) URL with a host, kept with one trailing slash; empty means unset."""
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        text = str(v).strip()
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in text) \
                or parts.query or parts.fragment:
            raise ValueError(f"must be an absolute http(s) URL without query or fragment, got {text[:200]!r}")
        return text.rstrip("/") + "/"

    @field_validator("raw_retention", "aggregate_retention", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> float | None:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        return parse_duration(v)

    @field_validator("store_inputs", mode="before")
    @classmethod
    def _store_inputs(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("alpha")
    @classmethod
    def _probability(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(f"must be between 0 and 1 (exclusive), got {v}")
        return v

    @field_validator("fast_interval_s")
    @classmethod
    def _fast_interval(cls, v: float) -> float:
        if not 0.05 <= v <= 86_400:     # NaN fails both comparisons
            raise ValueError(f"must be between 0.05 and 86400 seconds, got {v}")
        return v

    @field_validator("false_alarm_every")
    @classmethod
    def _run_length(cls, v: float) -> float:
        if not 10 <= v <= 1e12:     # below 10 every other sample alarms; NaN fails both comparisons
            raise ValueError(f"must be between 10 and 1e12 healthy samples, got {v}")
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {v[:20]!r}")
        return level

    # ---- derived retention -----------------------------------------------------------------
    @property
    def raw_retention_s(self) -> float:
        """How long raw samples are kept: ``MLFI_RAW_RETENTION``, else what detection reads times a margin.

        Detection reads the newest ``window_size`` samples (``window_size * watch_interval_s`` seconds
        at the default interval) and the sequential detectors the samples since the previous pass
        (``analysis_every_s``); the default keeps ``RAW_RETENTION_MARGIN`` times that, at least an hour.
        """
        if self.raw_retention is not None:
            return self.raw_retention
        need = self.window_size * self.watch_interval_s + self.analysis_every_s
        return max(RAW_RETENTION_FLOOR_S, RAW_RETENTION_MARGIN * need)

    @property
    def aggregate_retention_s(self) -> float:
        """How long per-minute aggregates are kept (``MLFI_AGGREGATE_RETENTION``, default 90 days)."""
        return self.aggregate_retention

    # ---- derived paths -------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        """Directory for the database, logs, audit log and exports."""
        return (self.home / "data") if self.home else REPO_ROOT / "data"

    @property
    def baselines_dir(self) -> Path:
        """Directory for versioned, human-readable baseline files."""
        return (self.home / "baselines") if self.home else REPO_ROOT / "baselines"

    @property
    def audit_dir(self) -> Path:
        return self.data_dir / "audit_logs"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'mlfi.db'}"

    def ensure_dirs(self) -> None:
        """Create the state directories (idempotent)."""
        for d in (self.data_dir, self.baselines_dir, self.audit_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
