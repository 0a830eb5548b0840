"""The shared checker for the frozen diagnosis batches C to AB (issue 13): one spec per batch, one set of
checks.

Each batch is a JSON file of cases rephrased from public write-ups, frozen by sha256 before the changes it measures.
The checks (run for every batch by tests/test_diag_batches.py):

- frozen: the sha256 pins the content, and the file says it is frozen;
- shape: size, unique ids of the form ``<prefix>_NNN_<category>``, a prompt or a record, a source URL, a source kind,
  a domain and an input kind, a known category and gate, every real failure expected blocked, a stated collapse
  never expected clear, every category present, enough hard negatives;
- coverage: the input kinds and domains each batch promised (and for C the record shapes and the MLflow export);
- provenance: exactly the listed cases share a source with an earlier batch (found after freezing, reported apart);
- accuracy: measured through bench/diagnosis/measure_batch.py (records through the CLI) and not below the recorded
  figure minus a margin, no record refused at intake;
- safety: leakage only on concrete evidence, every failure blocked, never CLEAR a failure or a stated collapse
  (a held-out batch may list the violations its one measurement found, ``known_violations``; nothing else may occur).

The recorded figures and their history are in bench/results/diagnosis_batch_*.md and the README.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["BATCHES", "CATEGORIES", "GATES", "Batch", "by_name", "measure_script", "summary"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
CATEGORIES = frozenset({
    "data_leakage", "overfitting", "underfitting", "class_imbalance", "data_drift",
    "label_noise", "data_quality", "training_instability", "evaluation_error", "unknown",
})
GATES = frozenset({"BLOCKED_PENDING_HUMAN_REVIEW", "REVIEW_RECOMMENDED", "CLEAR"})
KINDS = frozenset({"prose", "log", "confusion_matrix", "code", "table"})
DOMAINS = frozenset({"image", "genomics", "time_series", "fraud", "nlp", "iot", "tabular"})
ALL_DOMAINS = DOMAINS | {"speech", "recommender"}
BEFORE_I = ("diagnosis_batch_c.json", "diagnosis_batch_d.json", "diagnosis_batch_e.json", "diagnosis_batch_f.json",
            "diagnosis_batch_g.json", "diagnosis_batch_h.json")
AFTER_M = (*BEFORE_I, *(f"diagnosis_batch_{b}.json" for b in "ijklm"))


@dataclass(frozen=True)
class Batch:
    """What one frozen batch promises; ``measured`` is the last recorded accuracy (see the module docstring)."""

    name: str
    file: str
    prefix: str
    sha256: str
    min_cases: int
    measured: float
    margin: float = 0.05
    kinds: frozenset[str] = KINDS | {"record"}
    domains: frozenset[str] = frozenset()
    min_hard_negatives: int = 5
    earlier: tuple[str, ...] = ()
    shared_with_earlier: tuple[str, ...] = ()
    record_shapes: frozenset[str] = frozenset()
    min_record_share: float = 0.0
    unknown_gates: dict[str, int] = field(default_factory=dict)
    mlflow_records: bool = False
    known_violations: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Safety violations found by the one measurement of a held-out batch, reported and kept visible (never tuned
    away on that batch): the check asserts exactly these, so a new violation fails and a fix must update the list."""

    @property
    def path(self) -> Path:
        return FIXTURES / self.file

    def doc(self) -> dict[str, Any]:
        return _doc(self.file)

    def cases(self) -> list[dict[str, Any]]:
        return self.doc()["cases"]  # type: ignore[no-any-return]


BATCHES = (
    Batch(
        # 40/131 before issue 13; 54 after intake; 119 after the signatures (developed on C's misses); 121 after
        # session 4; development set since; 124 with the learned reader (fitted on A-E, so in-sample). 131 cases.
        # Session 9: 124/131 (hc_012 now leakage: a concrete leak explains the production drop; hc_046 no longer
        # called by the reader refit on A-G).
        name="C", file="diagnosis_batch_c.json", prefix="hc", min_cases=120, measured=125 / 131,
        sha256="643b4f9750e29bf1804f451a3cff686fb6bcf206de36ba3037cdf3ff8bfdf990",
        domains=DOMAINS, min_hard_negatives=5,
        record_shapes=frozenset({"names_list", "object_features", "unknown_fields", "text_for_number", "flat_metrics",
                                 "mlflow_run"}),
        min_record_share=0.25, unknown_gates={"CLEAR": 3, "REVIEW_RECOMMENDED": 3}, mlflow_records=True,
    ),
    Batch(
        # 17/48 before the signatures, 27/48 measured once after them, 42/48 after session 4 (developed on D's
        # misses, so D is a development set since); 43/48 with the learned reader (in-sample); 44/48 after session 8;
        # 45/48 after session 9 (hd_006 now leakage).
        name="D", file="diagnosis_batch_d.json", prefix="hd", min_cases=40, measured=47 / 48,
        sha256="137a35bed237a3c700531f4c6b3d3b1f703a04386c6d641a28d0f4028aa3abef",
        domains=DOMAINS, earlier=("diagnosis_batch_c.json",),
        shared_with_earlier=("hd_017_class_imbalance", "hd_020_class_imbalance", "hd_026_data_quality"),
    ),
    Batch(
        # Held out in session 5: 20/37 before, 29/37 after (15/30 -> 23/30 on the 30 new-source cases); used for
        # development of the learned reader in session 6: 32/37 with it (in-sample); 34/37 after session 8; 35/37
        # after session 9 (he_002 now leakage).
        name="E", file="diagnosis_batch_e.json", prefix="he", min_cases=30, measured=36 / 37,
        sha256="8dd92399cde7c4e5a9b1682dc1e6d7c61db8d147e04b55c0988e024eea444236",
        earlier=("diagnosis_batch_c.json", "diagnosis_batch_d.json"),
        shared_with_earlier=("he_007_training_instability", "he_012_class_imbalance", "he_023_data_quality",
                             "he_026_evaluation_error", "he_032_unknown", "he_035_unknown", "he_036_unknown"),
    ),
    Batch(
        # Held out in session 6 (written and frozen before the learned reader, no source shared with A-E): 21/34 on
        # the code before it, 22/34 measured once after it; a development set in session 8 (its misses used, the reader
        # refit on A-F): 31/34; 31/34 after session 9.
        name="F", file="diagnosis_batch_f.json", prefix="hf", min_cases=30, measured=32 / 34,
        sha256="27d33321f9fdfc3438db50d76bd709169a47abe9e6be9e0aea4a3e243801dd1c",
        kinds=frozenset({"prose", "log", "confusion_matrix", "code", "table", "record"}),
        earlier=("diagnosis_batch_c.json", "diagnosis_batch_d.json", "diagnosis_batch_e.json"),
    ),
    Batch(
        # Held out in session 8 (written and frozen before any change of that session, no source shared with A-F):
        # 31/46 on the code before it, 30/46 measured once after it; both runs CLEAR hg_007 (an overfitting write-up
        # whose validation figure is given in words only, "very low"). The lead then made "what is going on" and a
        # split said to be "very low" complaints (they only keep the gate from CLEAR): hg_007 is REVIEW since, so
        # G's safety figure is no longer held out for that case; accuracy and gates elsewhere on A-G unchanged.
        # Session 9: G is development data (its misses drove the concept detectors; the reader is fitted on A-G):
        # 43/46, no safety violation (its leave-one-batch-out figure, the reader fitted without G, is 43/46 too).
        name="G", file="diagnosis_batch_g.json", prefix="hg", min_cases=40, measured=44 / 46,
        known_violations={},
        sha256="1bd8aa9ef7a2ecef2071bf5554c55187993530a4c2ce9aa0ca3140b0ee6568ac",
        kinds=frozenset({"prose", "log", "confusion_matrix", "code", "table", "record"}),
        domains=frozenset({"image", "genomics", "time_series", "fraud", "nlp", "iot", "tabular"}),
        earlier=("diagnosis_batch_c.json", "diagnosis_batch_d.json", "diagnosis_batch_e.json",
                 "diagnosis_batch_f.json"),
    ),
    Batch(
        # Held out in session 9: written and frozen (commit 5c720fa) by an engineer who did not read the diagnosis
        # rules, while others changed them; no source shared with A-G. 22/51 on the code before session 9 (419bffd),
        # 24/51 (47.1 %) measured once after its changes (5ebd77f): the figure to expect on unseen write-ups. That
        # one measurement CLEARed hh_043 (doubted baseline figures, a question and no healthy statement). The lead
        # then made such a write-up REVIEW_RECOMMENDED (pipeline.deployment_gate, ``asks``): H's zero-violation
        # figure is not held out for that case; answers elsewhere on A-H unchanged.
        # Session 10: development data of the reader (fitted on A-K): 45/51 in-sample; its honest figure is the
        # nested leave-one-batch-out one of bench/diagnosis/honest_reader.py (reader fitted without H): 36/51.
        name="H", file="diagnosis_batch_h.json", prefix="hh", min_cases=40, measured=45 / 51,
        known_violations={},
        sha256="8922621f7ad355e2b095582c2b6229ad0f33d61c1e0410d92264a79e713e6c6a",
        kinds=frozenset({"prose", "log", "confusion_matrix", "code", "table", "record"}),
        domains=frozenset({"image", "genomics", "time_series", "fraud", "nlp", "iot", "tabular"}),
        earlier=("diagnosis_batch_c.json", "diagnosis_batch_d.json", "diagnosis_batch_e.json",
                 "diagnosis_batch_f.json", "diagnosis_batch_g.json"),
    ),
    # Session 10: I, J, K written by three engineers who did not read the rules, from sources no earlier batch used,
    # as training data for the learned reader (and, with H, as the batches on which the way rules and reader are
    # combined is chosen: the rules were never written on them). The product before session 10 (a0a70ac) got
    # 42/114, 35/120, 43/110 on them; the figures below are in-sample (the reader is fitted on A-K). Their
    # descriptions gained "Frozen ... never edit" at the merge (cases unchanged).
    Batch(
        name="I", file="diagnosis_batch_i.json", prefix="hi", min_cases=100, measured=98 / 114,
        sha256="d74418951f2d56f669b03975575f7d87d4836db52afa1e5f3e6fa77a64074ad3",
        domains=ALL_DOMAINS, earlier=BEFORE_I, min_record_share=0.1,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        name="J", file="diagnosis_batch_j.json", prefix="hj", min_cases=100, measured=95 / 120,
        sha256="c0466328333012ac0221a4920e156776be608b3fa1696e47715c5daff12a80a1",
        domains=ALL_DOMAINS, earlier=(*BEFORE_I, "diagnosis_batch_i.json"), min_record_share=0.1,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        name="K", file="diagnosis_batch_k.json", prefix="hk", min_cases=100, measured=95 / 110,
        sha256="ff9a51f22c8668945f7da3ed628bdcff42a22d43a09bbdac68d52b7156bdd48f",
        domains=ALL_DOMAINS, earlier=(*BEFORE_I, "diagnosis_batch_i.json", "diagnosis_batch_j.json"),
        min_record_share=0.1, mlflow_records=True,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "object_features", "text_for_number",
                                 "unknown_fields"}),
    ),
    Batch(
        # Held out in session 10: written and frozen (commit ea887f0, sha256 below) by an engineer who did not read
        # the rules, while the reader and its policy were changed, from sources no batch A-K used; never fitted on.
        # Measured once after session 10's changes (d8299ff): 43/60 (71.7 %), no safety violation; the code before
        # the session (a0a70ac) gets 26/60 (43.3 %) and CLEARs hl_005 (a leakage write-up with a collapse).
        # Training data since session 11 (the reader is fitted on A-P): 53/60 in-sample.
        name="L", file="diagnosis_batch_l.json", prefix="hl", min_cases=50, measured=53 / 60,
        sha256="6e83a07a11172a241aa9cf2d489937cc3c4f82d7c132b3594fec44054371f911",
        domains=ALL_DOMAINS, min_hard_negatives=5,
        earlier=(*BEFORE_I, "diagnosis_batch_i.json", "diagnosis_batch_j.json", "diagnosis_batch_k.json"),
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        # Held out in session 10, a second time: written after session 10's reader changes (commit ac28a1d) by an
        # engineer who did not read the rules, from sources no batch A-L used; never fitted on. Measured once on the
        # same code as L (33d85de; only a docstring since d8299ff): 34/48 (70.8 %), no safety violation; the code
        # before the session (a0a70ac) gets 24/48 (50.0 %) and CLEARs hm_013 (an underfitting write-up).
        # Training data since session 11 (the reader is fitted on A-P): 41/48 in-sample.
        name="M", file="diagnosis_batch_m.json", prefix="hm", min_cases=40, measured=41 / 48,
        sha256="9e8069168a4d054830ca8480e78aa4dd887fef90f9dfafea818175b13207b713",
        domains=ALL_DOMAINS, min_hard_negatives=5,
        earlier=(*BEFORE_I, "diagnosis_batch_i.json", "diagnosis_batch_j.json", "diagnosis_batch_k.json",
                 "diagnosis_batch_l.json"),
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "object_features", "text_for_number",
                                 "unknown_fields"}),
    ),
    # Session 11: N, O, P written by three engineers who did not read the rules, from sources no batch A-M used
    # (claims coordinated in a shared file), as training data for the reader; the product before session 11
    # (f2a4896) got 59/100, 68/100, 62/100 on them. The figures below are in-sample (the reader is fitted on A-P).
    Batch(
        name="N", file="diagnosis_batch_n.json", prefix="n", min_cases=100, measured=84 / 100,
        sha256="c970d8228d8e968ff304bfbe0d2fef26b149c3bc612986a7bcbb1e67b2fa1c40",
        domains=ALL_DOMAINS, earlier=AFTER_M, min_record_share=0.1,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        name="O", file="diagnosis_batch_o.json", prefix="o", min_cases=100, measured=87 / 100,
        sha256="d6ae1b0e7f51085157b2846e822f9e03f965c403652e39aebaecb05f53667c3f",
        domains=ALL_DOMAINS, earlier=(*AFTER_M, "diagnosis_batch_n.json"), min_record_share=0.1,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        name="P", file="diagnosis_batch_p.json", prefix="p", min_cases=100, measured=88 / 100,
        sha256="8535a19444fa7caafb7ab996c441110628c00c7a09f1508ad3a5244f1b0939d3",
        domains=ALL_DOMAINS, earlier=(*AFTER_M, "diagnosis_batch_n.json", "diagnosis_batch_o.json"),
        min_record_share=0.25, mlflow_records=True,
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        # Held out in session 11: written and frozen (commit 54d599e, sha256 below) by an engineer who did not read
        # the rules, from sources no batch A-P used, while N-P were written; never fitted on, never read by the lead.
        # Measured on the code before session 11's reader change (f2a4896): 32/50 (64.0 %); after it (the reader
        # refitted on A-P, its policy chosen nested on H-P): 34/50 (68.0 %). No safety violation either time.
        # Training data since session 14 (the reader is fitted on A-S): 48/50 in-sample.
        name="Q", file="diagnosis_batch_q.json", prefix="hq", min_cases=40, measured=48 / 50,
        sha256="122c978a9e6909ba638590aa4edd36e19f62b74b86a3e2cb7f68c5674aaf72bc",
        domains=ALL_DOMAINS, min_hard_negatives=5,
        earlier=(*AFTER_M, "diagnosis_batch_n.json", "diagnosis_batch_o.json", "diagnosis_batch_p.json"),
        record_shapes=frozenset({"flat_metrics", "mlflow_run", "names_list", "text_for_number", "unknown_fields"}),
    ),
    Batch(
        # Held out in session 13: written by two engineers who did not read the rules, from sources no batch A-Q
        # used, frozen (sha256 below) before it was run; 50 written, one dropped before freezing (its thread reported
        # no model symptom and the writer had supplied one). Measured once, on the code of session 11's reader
        # (fitted on A-P): 28/49 (57.1 %), no safety violation. A reader refitted on A-Q got 29/49 and was not kept
        # (bench/results/diagnosis_session13.md). Then development data for session 13's rule fixes: 33/49.
        # Training data since session 14 (the reader is fitted on A-S): 44/49 in-sample.
        name="R", file="diagnosis_batch_r.json", prefix="hr", min_cases=45, measured=44 / 49,
        sha256="740a8f17398be2848d2a004b43c3d153122de1867c4623d003f1392f57efb4f1",
        domains=DOMAINS | {"speech"}, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopq")),
    ),
    Batch(
        # Held out in session 13: written by two more engineers who did not read the rules, from sources no batch A-R
        # used, while R was being measured; frozen (sha256 below) and run on the code before session 13's rule fixes
        # (5eba86f): 32/48 (66.7 %), no safety violation; after them (and after a review's fixes to them): 32/48, the
        # same cases failing. Its cases were never read by the lead. Two of 50 were dropped before freezing (threads
        # that never confirmed the label problem, as their writer noted).
        # Training data since session 14 (the reader is fitted on A-S): 42/48 in-sample.
        name="S", file="diagnosis_batch_s.json", prefix="hs", min_cases=45, measured=42 / 48,
        sha256="4dfd8d9dbb3485bea4266db86dca902f8c40fb3dc569af19f42c7010c3f0b51a",
        domains=DOMAINS | {"speech", "recommender"}, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqr")),
    ),
    Batch(
        # Held out in session 14: written by two engineers who did not read the rules, from sources no batch A-S
        # used, frozen (commit 6e08a97, sha256 below) before it was run; its cases were never read by the lead.
        # Measured on the code before session 14's reader change (cc65e18's diagnosis code): 29/50 (58 %); after it
        # (the reader refitted on A-S with word n-grams, a counter-evidence level, the policy chosen nested on H-S
        # under the worked-example guard): 27/50 (54 %). Three answers changed: two right answers lost (a hard
        # negative named evaluation_error, an underfitting write-up overruled to data_quality), none gained. No
        # safety violation either time. Then development data: a concept built on its misses (the evaluation items
        # themselves were trained on) and physical units read as counts: 31/50. Training data since session 15 (the
        # reader is fitted on A-U): 45/50 in-sample.
        name="T", file="diagnosis_batch_t.json", prefix="ht", min_cases=45, measured=45 / 50,
        sha256="1163cc0e5d7e95d2cf452d00b9af4cc86ae0bb39f61391857541b7c77daf28c0",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrs")),
    ),
    Batch(
        # Held out in session 14, a second time: written by two more engineers who did not read the rules, after the
        # reader change (97a368c), from sources no batch A-T used; frozen (commit 354e19a, sha256 below) before it was
        # run; its cases were never read by the lead. Measured on the code at the start of session 14 (cc65e18):
        # 25/50 (50 %); after the reader change (97a368c): 30/50 (60 %; six gained, one lost); on the final code (the
        # concept built on T's misses, units, the reader refitted on that reading): 29/50 (58 %; one lost). No safety
        # violation any time. Training data since session 15 (the reader is fitted on A-U): 42/50 in-sample.
        name="U", file="diagnosis_batch_u.json", prefix="hu", min_cases=45, measured=42 / 50,
        sha256="192711ad75b61f087b4e21b59b00e72f5ebfee70cd8057af1fe578b4ab7a4923",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrst")),
    ),
    Batch(
        # Held out in session 15: written by two engineers who did not read the rules, from sources no batch A-U used,
        # frozen (commit 30a4646, sha256 below) before it was run and before any change of the session; its cases
        # were never read by the lead. Measured on the code at the start of session 15 (ea9836c): 26/50 (52 %); after
        # the session's changes (8c1db85: leakage grounded by a stated mechanism, the reader refitted on A-U):
        # 28/50 (56 %; three gained, two of them leakage, one lost). No safety violation either time. An independent
        # review then showed the leakage sentence readers of 8c1db85 took hedges, fixes and checks for stated leaks;
        # on the final code (readers tightened on the review's own sentences, not on V): 26/50 (52 %), the two
        # leakage cases lost again. No safety violation. Development data in session 16 (its leakage misses were read
        # for the sentence readers): 27/50; training data since (the reader is fitted on A-W): 41/50 in-sample.
        name="V", file="diagnosis_batch_v.json", prefix="hv", min_cases=45, measured=41 / 50,
        sha256="9320f173ba7aef84422debc3715868def9645db89a781a2bd9c0278e3e0108a7",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstu")),
    ),
    Batch(
        # Held out in session 15, a second time: written by two more engineers who did not read the rules, while the
        # session's changes were made, from sources no batch A-V used; frozen (commit 860f5ca, sha256 below) before
        # it was run; its cases were never read by the lead but one, below. Measured on 8c1db85 (the session's
        # changes): 30/50 (60 %) with one safety violation, hw_018 CLEARed (test accuracy "way lower than expected"
        # beside a training accuracy that is "fine"); the code at the start of the session (ea9836c) gets 29/50 with
        # the same violation. The lead then read hw_018: an intensified comparative ("way / far / much lower",
        # "significantly below") is now a large drop in words, never CLEAR (tests/test_diag_payload.py). On the final
        # code (also the review-tightened leakage readers): 29/50 (58 %), no violation; W's zero-violation figure is
        # not held out for hw_018. Development data in session 16 (as V): 30/50; training data since (the reader is
        # fitted on A-W): 46/50 in-sample.
        name="W", file="diagnosis_batch_w.json", prefix="hw", min_cases=45, measured=46 / 50,
        sha256="315665f7e43e219e5d331cbbda307b1d59d181e93cb48e07b0d164a61e966a1b",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstuv")),
    ),
    Batch(
        # Held out in session 16: written by two engineers who did not read the rules, from sources no batch A-W used,
        # frozen (commit 28c8b1f, sha256 below, with Y) before it was run; its cases were never read by the lead.
        # Written while the session's first change (abd9b0a) was made, so measured on the code at the start of
        # session 16 (7c61aff): 26/50 (52 %), no safety violation; on the final code (ca41ade: the safeguards, the
        # label-in-inputs reader and the new item relations, the reader refitted on A-W): 27/50 (54 %; three gained,
        # one of them leakage, two lost), no safety violation. Development data in session 17 (its misses were read:
        # line and chapter numbers, the same picture, a fit on the evaluation split ...); training data since (the
        # reader is fitted on A-Y): 44/50 in-sample.
        name="X", file="diagnosis_batch_x.json", prefix="hx", min_cases=45, measured=44 / 50,
        sha256="2f32b8d6edff0db0749e51346a07ba0739871f093d205d0fd24b1ef01a1af7b4",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstuvw")),
    ),
    Batch(
        # Held out in session 16, a second time: written by two more engineers at the same time as X, from sources no
        # batch A-W used (one, tensorflow/recommenders#119, is also X's hx_037: the writers claimed it at once),
        # frozen with X (commit 28c8b1f) before it was run; never read by the lead. Measured once, on the session's
        # final code (ca41ade): 32/50 (64 %), no safety violation. Development data in session 17 (as X); training
        # data since (the reader is fitted on A-Y): 46/50 in-sample.
        name="Y", file="diagnosis_batch_y.json", prefix="hy", min_cases=45, measured=46 / 50,
        sha256="42be7b37acbfa25e239d0f52b226e3a4836784617e2019a7ed6fdcb6ef95e010",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstuvwx")),
        shared_with_earlier=("hy_039_overfitting",),
    ),
    Batch(
        # Held out in session 17: written by two engineers who did not read the rules, from sources no batch A-Y
        # used, frozen (commit 362c888, sha256 below) after the session's first change (9d10b02) and before it was
        # run; never read by the lead. Measured once on the session's final code (c9b880d: the reading fixes from X,
        # Y and a user test, the reader refitted on A-Y): 31/50 (62 %), no safety violation; the code at the start of
        # the session (775e8a3) gets 29/50. Measured a second time after a read-through fix (a drift statistic after a
        # score was lost; not informed by Z) and the refit it needed (the procedure then chose C = 30): 32/50.
        # Development data in session 18 (its misses were read: per-epoch metric keys, batch shuffling, code
        # vocabulary as features, another site's figure ...); training data since (the reader is fitted on A-AA):
        # 43/50 in-sample.
        name="Z", file="diagnosis_batch_z.json", prefix="hz", min_cases=45, measured=43 / 50,
        sha256="fc5bee9bd7115ceeafa6a8b63fce3543bd0ee604823953eb174316be24c3d0bf",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstuvwxy")),
    ),
    Batch(
        # Held out in session 17, a second time: two more engineers, every source a Q&A thread, blog post or paper
        # (none a GitHub issue in one half), none used by A-Z; frozen (commit e6fe44e) before it was run, never read.
        # Measured on c9b880d: 23/50 (46 %), no safety violation; the starting code: 22/50; the final code (as Z):
        # 21/50 (42 %), no safety violation. Development data in session 18 (as Z); training data since: 44/50
        # in-sample.
        name="AA", file="diagnosis_batch_aa.json", prefix="haa", min_cases=45, measured=44 / 50,
        sha256="ef5e18f38fdbe9a93371f6c12742aecc8a131c665917758617cf0842a129d18c",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in "nopqrstuvwxyz")),
    ),
    Batch(
        # Held out in session 18: written by two engineers who did not read the rules, from sources no batch A-AA
        # used, frozen (commit f61d1c4) before it was run; never read by the lead. Measured on the session's starting
        # code (82c9a46): 31/50, one safety violation (hab_044: a failure given CLEAR); on the code meant as final (the
        # reading fixes from Z, AA and a review, the reader refitted on A-AA; 5b0e07b): 31/50 (62 %), the same
        # violation (one answer differs between the two codes). That is the held-out figure. Only then was hab_044
        # read: an MLflow run saved with "notes" and an error analysis beside "info" and "data" lost that text at
        # intake (the notes said about 30 % of the test errors were gold-label errors). Keys beside a run are now read
        # like any record field, and "annotation mistakes" / "errors in the gold labels" are wrong labels; after the
        # refit that cue needed: 33/50, no violation (hab_044 right, informed by reading it; hab_029 gained, hab_049
        # still wrong).
        name="AB", file="diagnosis_batch_ab.json", prefix="hab", min_cases=45, measured=33 / 50,
        sha256="82ac1a6d5826b93873fba3e6ce94206e45cc01269408110fc05b9350a39af2fb",
        domains=ALL_DOMAINS, min_hard_negatives=5, min_record_share=0.1,
        earlier=(*AFTER_M, *(f"diagnosis_batch_{b}.json" for b in (*"nopqrstuvwxyz", "aa"))),
    ),
)


def by_name(name: str) -> Batch:
    return next(b for b in BATCHES if b.name == name)


@cache
def _doc(file: str) -> dict[str, Any]:
    return json.loads((FIXTURES / file).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def sha256_of(batch: Batch) -> str:
    return hashlib.sha256(batch.path.read_bytes()).hexdigest()


@lru_cache(maxsize=1)
def measure_script() -> ModuleType:
    """bench/diagnosis/measure_batch.py, loaded once: the figures come from the script a user runs."""
    spec = importlib.util.spec_from_file_location("measure_batch", ROOT / "bench" / "diagnosis" / "measure_batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def summary(name: str) -> dict[str, Any]:
    """The batch measured once per test session."""
    return measure_script().measure(by_name(name).path)  # type: ignore[no-any-return]


def earlier_sources(batch: Batch) -> set[str]:
    return {c["source"] for f in batch.earlier for c in _doc(f)["cases"]}
