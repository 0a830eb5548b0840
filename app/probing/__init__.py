"""Probing: one connector per wire protocol, probe sets, auto-detection, and ``probe_once`` -> Sample."""

from __future__ import annotations

from app.probing.base import PROTOCOLS, Parsed, ProbeFault, ProbeTarget, check_protocol, get_connector
from app.probing.detect import detect_protocol
from app.probing.probe import probe_once
from app.probing.probe_set import ProbeSet, default_probe_set_path, load_template, render_template

__all__ = [
    "PROTOCOLS", "ProbeTarget", "Parsed", "ProbeFault", "check_protocol", "get_connector",
    "probe_once", "detect_protocol", "ProbeSet", "default_probe_set_path", "load_template", "render_template",
]
