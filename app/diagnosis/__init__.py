"""Experiment-failure diagnosis: intake, measurement, taxonomy, evidence, plan, validation, hashed payload."""

from app.diagnosis.models import CONTRACT_KEYS, Diagnosis
from app.diagnosis.payload import canonical_json, payload_hash, verify_payload
from app.diagnosis.pipeline import diagnose
from app.diagnosis.record import ExperimentRecord

__all__ = [
    "CONTRACT_KEYS",
    "Diagnosis",
    "ExperimentRecord",
    "canonical_json",
    "diagnose",
    "payload_hash",
    "verify_payload",
]
