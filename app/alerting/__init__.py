"""Alerts to Alertmanager (API v2): incidents fire while open and resolve when they close."""

from __future__ import annotations

from app.alerting.incidents import notify_change

__all__ = ["notify_change"]
