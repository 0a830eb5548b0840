"""Every protocol's parser on REAL recorded responses (tests/fixtures/recorded/, see its README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.probing.base import ProbeFault
from app.probing.gradio import gradio_data, parse_gradio_data, parse_sse, pick_endpoint
from app.probing.interpret import interpret
from app.probing.kserve_v1 import model_names
from app.probing.open_inference_v2 import build_inputs, parse_outputs, ready_models
from app.probing.probe_set import ProbeSet, default_probe_set_path

REC = Path(__file__).parent / "fixtures" / "recorded"


def rec(name: str) -> dict:
    return json.loads((REC / name).read_text())


def test_every_fixture_is_documented_in_the_readme() -> None:
    readme = (REC / "README.md").read_text()
    for f in REC.glob("*.json"):
        doc = json.loads(f.read_text())
        assert doc.get("source"), f.name
        assert f.name in readme, f"{f.name} missing from README"


# ---- Open Inference Protocol V2 (MLServer recorded live; KServe/spec examples from the docs) ----------------
def test_mlserver_predict_proba_gives_argmax_and_max_probability() -> None:
    p = parse_outputs(rec("mlserver_infer_predict_proba.json")["body"])
    data = rec("mlserver_infer_predict_proba.json")["body"]["outputs"][0]["data"]
    assert p.prediction == str(max(range(len(data)), key=data.__getitem__)) == "0"
    assert p.confidence == pytest.approx(max(data))
    assert set(p.probabilities or {}) == {"0", "1"}
    q = parse_outputs(rec("mlserver_infer_predict_proba_benign.json")["body"])
    assert q.prediction == "1" and q.confidence is not None and q.confidence > 0.5


def test_mlserver_label_and_probabilities_together() -> None:
    doc = rec("mlserver_infer_predict_and_proba.json")
    assert [o["name"] for o in doc["request"]["json"]["outputs"]] == ["predict", "predict_proba"]
    p = parse_outputs(doc["body"])
    proba = doc["body"]["outputs"][1]["data"]
    assert p.prediction == "1" and p.confidence == pytest.approx(max(proba)) and p.confidence > 0.5


def test_mlserver_default_predict_is_label_only() -> None:
    p = parse_outputs(rec("mlserver_infer_default_predict.json")["body"])
    assert p.prediction == "1" and p.confidence is None and p.probabilities is None


def test_mlserver_errors_are_not_predictions() -> None:
    for name in ("mlserver_infer_unknown_output.json", "mlserver_infer_unknown_model.json"):
        with pytest.raises(ProbeFault) as e:
            parse_outputs(rec(name)["body"])
        assert e.value.kind == "protocol_error"


def test_v2_discovery_shapes() -> None:
    assert ready_models(rec("mlserver_repository_index.json")["body"]) == ["breast-cancer"]
    assert rec("mlserver_model_metadata.json")["body"]["inputs"] == []  # MLServer declares nothing...
    tensors = build_inputs({"a": 1.0, "b": 2}, rec("mlserver_model_metadata.json")["body"])
    assert tensors == [{"name": "input-0", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 2.0]}]  # ...so defaults
    meta = rec("doc_triton_model_metadata.json")["body"]
    assert build_inputs({"a": 1, "b": 2}, meta)[0]["name"] == "input_image"
    assert build_inputs({"a": 1, "b": 2}, meta)[0]["datatype"] == "FP32"


def test_spec_example_batch_reads_first_row_scores() -> None:
    # [3, 2] FP32 "output0" = [[1.0, 1.1], ...]: not probabilities -> argmax of the first row, no confidence
    p = parse_outputs(rec("doc_open_inference_v2_spec_example.json")["body"])
    assert p.prediction == "1" and p.confidence is None


def test_kserve_v2_sklearn_doc_example() -> None:
    p = parse_outputs(rec("doc_kserve_v2_sklearn_iris.json")["body"])
    assert p.prediction == "1" and p.confidence is None


# ---- MLflow scoring server (recorded live) -------------------------------------------------------------------
def test_mlflow_predictions_are_labels_only() -> None:
    doc = rec("mlflow_invocations_split.json")
    assert doc["request"]["json"]["dataframe_split"]["columns"][0] == "mean radius"
    p = interpret(doc["body"])
    assert p.prediction == "0" and p.confidence is None
    assert interpret(rec("mlflow_invocations_records.json")["body"]).prediction == "0"


def test_mlflow_error_body_is_a_protocol_error() -> None:
    with pytest.raises(ProbeFault) as e:
        interpret(rec("mlflow_invocations_bad_payload.json")["body"])
    assert e.value.kind == "protocol_error" and "input must be" in e.value.detail


def test_mlflow_probability_lists_are_used() -> None:
    p = interpret({"predictions": [[0.2, 0.8]]})
    assert p.prediction == "1" and p.confidence == pytest.approx(0.8)


# ---- KServe V1 (docs) ----------------------------------------------------------------------------------------
def test_kserve_v1_doc_examples() -> None:
    assert model_names(rec("doc_kserve_v1_list_models.json")["body"]) == ["sklearn-iris"]
    p = interpret(rec("doc_kserve_v1_sklearn_iris.json")["body"])
    assert p.prediction == "1" and p.confidence is None


# ---- Gradio (6.x recorded live; 3.x from the docs) -----------------------------------------------------------
def test_gradio_sse_complete_label_output() -> None:
    doc = rec("gradio_call_sse_complete.json")
    assert doc["content_type"].startswith("text/event-stream")
    p = parse_gradio_data(parse_sse(doc["text"]))
    assert p.prediction == "0" and p.confidence == pytest.approx(0.9999999997662022)
    assert p.probabilities is not None and set(p.probabilities) == {"0", "1"}
    q = parse_gradio_data(parse_sse(rec("gradio_call_sse_complete_dataframe.json")["text"]))
    assert (q.prediction, q.confidence) == (p.prediction, p.confidence)


def test_gradio_error_event_is_a_protocol_error() -> None:
    with pytest.raises(ProbeFault) as e:
        parse_sse(rec("gradio_call_sse_error.json")["text"])
    assert e.value.kind == "protocol_error"


def test_gradio_call_post_returns_event_id() -> None:
    assert len(rec("gradio_call_post.json")["body"]["event_id"]) >= 16


def test_gradio_info_drives_the_inputs() -> None:
    ps = ProbeSet.from_csv(default_probe_set_path())
    row, _ = ps.rows(1, seed=3)[0]
    api, params = pick_endpoint(rec("gradio_info_numbers.json")["body"])  # type: ignore[misc]
    assert api == "predict" and len(params) == 30
    # parameters are labelled with the feature names: values go in the declared order
    shuffled = dict(reversed(list(row.items())))
    assert gradio_data(shuffled, params) == list(row.values())
    api, params = pick_endpoint(rec("gradio_info_dataframe.json")["body"])  # type: ignore[misc]
    (frame,) = gradio_data(row, params)
    assert frame["headers"] == list(row) and frame["data"] == [list(row.values())]
    # the recorded request used exactly this shape
    assert rec("gradio_call_post_dataframe.json")["request"]["json"]["data"][0]["headers"] == list(row)


def test_gradio3_run_predict_doc_example() -> None:
    p = parse_gradio_data(rec("doc_gradio3_run_predict.json")["body"])
    assert p.prediction == "setosa" and p.confidence == pytest.approx(0.97)


# ---- Hugging Face style (docs) -------------------------------------------------------------------------------
def test_hf_text_classification() -> None:
    p = interpret(rec("doc_hf_text_classification.json")["body"])
    assert p.prediction == "POSITIVE" and p.confidence == pytest.approx(0.9998738765716553)
    q = interpret(rec("doc_hf_pipeline_single.json")["body"])
    assert q.prediction == "POSITIVE" and q.confidence == pytest.approx(0.9998)


def test_hf_loading_error_body() -> None:
    with pytest.raises(ProbeFault) as e:
        interpret(rec("doc_hf_error_loading.json")["body"])
    assert e.value.kind == "protocol_error" and "loading" in e.value.detail


# ---- generic REST close variants -----------------------------------------------------------------------------
@pytest.mark.parametrize("body, pred, conf", [
    ({"prediction": 1, "confidence": 0.9}, "1", 0.9),
    ({"label": "spam", "score": 0.7}, "spam", 0.7),
    ({"class": "b", "probability": 0.66}, "b", 0.66),
    ({"pred": 0.0, "proba": 0.51}, "0", 0.51),
    ({"probabilities": {"a": 0.25, "b": 0.75}}, "b", 0.75),
    ({"probabilities": [0.9, 0.1], "classes": ["neg", "pos"]}, "neg", 0.9),
    ({"prediction": "pos", "probabilities": {"neg": 0.3, "pos": 0.7}}, "pos", 0.7),
    ({"result": {"prediction": "x", "confidence": 0.8}}, "x", 0.8),
    ([{"prediction": "y", "confidence": 0.6}], "y", 0.6),
    ([0.3, 0.7], "1", 0.7),
    ({"0": 0.4, "1": 0.6}, "1", 0.6),
    ({"prediction": 3.25}, "3.25", None),
    ({"label": "a", "score": 7.5}, "a", None),   # an unbounded score is not a confidence
])
def test_generic_variants(body: object, pred: str, conf: float | None) -> None:
    p = interpret(body)
    assert p.prediction == pred
    assert p.confidence == (pytest.approx(conf) if conf is not None else None)


@pytest.mark.parametrize("body", [{}, [], {"status": "ok", "model_version": "1"}, {"confidence": 1.7},
                                  {"prediction": None, "foo": 1, "bar": 2}, {"prediction": float("nan")}])
def test_generic_malformed(body: object) -> None:
    with pytest.raises(ProbeFault) as e:
        interpret(body)
    assert e.value.kind == "malformed_response"


def test_seldon_style_ndarray_answer() -> None:
    p = interpret({"data": {"names": ["t:0", "t:1"], "ndarray": [[0.1, 0.9]]}, "meta": {}})
    assert p.prediction == "1" and p.confidence == pytest.approx(0.9)


def test_v2_label_tensor_with_probabilities_keeps_class_names() -> None:
    body = {"outputs": [{"name": "predict", "shape": [1, 1], "datatype": "BYTES", "data": ["benign"]},
                        {"name": "predict_proba", "shape": [1, 2], "datatype": "FP64", "data": [0.2, 0.8]}]}
    p = parse_outputs(body)
    assert p.prediction == "benign" and p.confidence == pytest.approx(0.8)
