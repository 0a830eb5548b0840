"""Probing: one connector per wire protocol, probe sets, auto-detection, and ``probe_once`` -> Sample."""

from __future__ import annotations

from app.probing.base import Parsed, ProbeFault, ProbeTarget, check_protocol, get_connector, protocols
from app.probing.detect import detect_protocol
from app.probing.probe import probe_once
from app.probing.probe_set import ProbeSet, default_probe_set_path, load_template, render_template
from app.probing.target import Overrides, target_for

__all__ = [
    "PROTOCOLS",
    "Overrides",
    "Parsed",
    "ProbeFault",
    "ProbeSet",
    "ProbeTarget",
    "check_protocol",
    "default_probe_set_path",
    "detect_protocol",
    "get_connector",
    "load_template",
    "probe_once",
    "protocols",
    "render_template",
    "target_for",
]

# the wire protocols mlfi speaks, from the connector registry ("auto" detects one of them)
PROTOCOLS: tuple[str, ...] = protocols()
