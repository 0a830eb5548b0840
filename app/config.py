"""Settings: one object, built once per entry point, from `MLFI_*` env vars and an optional `.env`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["REPO_ROOT", "Settings"]

REPO_ROOT = Path(__file__).resolve().parents[1]
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")   # loguru's


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
    watch_concurrency: int = 32
    analysis_every_s: float = 30.0
    window_size: int = 150
    heartbeat_every_s: float = 2.0
    backoff_max_s: float = 60.0

    # statistics
    alpha: float = 0.05
    # sequential detection: expected healthy samples between two false alarms of one endpoint (all its
    # signals together: each signal's detector gets this times the number of signals)
    false_alarm_every: float = 10_000.0

    # incidents: healthy reports in a row needed to close an open incident
    incident_resolve_after: int = Field(default=1, ge=1)

    # incident notifications (opened / resolved): a secret, incoming-webhook URLs embed their token
    alert_webhook_url: SecretStr | None = None
    alert_timeout_s: float = Field(default=5.0, gt=0)

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

    @field_validator("probe_timeout_s", "watch_interval_s", "analysis_every_s", "window_size", "watch_concurrency",
                     "backoff_max_s", "heartbeat_every_s", "probe_samples")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError(f"must be > 0, got {v}")
        return v

    @field_validator("alpha")
    @classmethod
    def _probability(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(f"must be between 0 and 1 (exclusive), got {v}")
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
