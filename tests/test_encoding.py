"""Inference backends: same vectors (within each backend's precision), separate cache entries, cached exports."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import sample_texts

from embedtune.errors import EmbedtuneError


@pytest.fixture(autouse=True)
def onnx_cache(tmp_path, monkeypatch):
    """Exports go to a per-test folder, never the user's cache."""
    from embedtune.encoding import onnx_export

    monkeypatch.setattr(onnx_export, "ONNX_CACHE", tmp_path / "onnx")
    return tmp_path / "onnx"


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    # Very different lengths (padding inside batches), a single word and an empty text.
    return sample_texts(120) + ["word", ""]


@pytest.mark.parametrize(
    ("name", "floor"),
    [("onnx", 0.9999), ("torch-bf16", 0.99), ("onnx-int8", 0.98), ("openvino", 0.9999), ("openvino-bf16", 0.99)],
)
def test_backend_vectors_match_fp32(tiny_model_dir, texts, name, floor):
    from embedtune.encoding import inference_of
    from embedtune.models import load_embedder
    from embedtune.retrieval import encode_texts

    ref_model = load_embedder(tiny_model_dir, inference="torch")
    model = load_embedder(tiny_model_dir, inference=name)
    assert inference_of(model) == name
    for kind in ("document", "query"):
        ref = encode_texts(ref_model, texts, kind, batch_size=16, progress=False)
        got = encode_texts(model, texts, kind, batch_size=16, progress=False)
        assert got.dtype == np.float32 and got.shape == ref.shape
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-4)
        assert _cosines(got, ref).min() >= floor


def test_onnx_export_is_cached_per_model_content(tiny_model_dir, onnx_cache):
    from embedtune.models import load_embedder

    load_embedder(tiny_model_dir, inference="onnx-int8")
    (folder,) = onnx_cache.iterdir()
    files = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}
    assert {"model.onnx", "model_int8.onnx"} <= set(files)
    load_embedder(tiny_model_dir, inference="onnx")
    load_embedder(tiny_model_dir, inference="onnx-int8")
    assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == files  # nothing exported again
    assert not [p for p in onnx_cache.iterdir() if p.name.startswith(".")]  # no staging left behind
    load_embedder(tiny_model_dir, inference="openvino-bf16")  # OpenVINO reads the same export
    assert {f.name: f.stat().st_mtime_ns for f in folder.iterdir()} == files


@pytest.mark.parametrize("name", ["onnx", "openvino-bf16"])
def test_exported_backends_encode_from_several_threads_at_once(tiny_model_dir, texts, name):
    """The server encodes from a thread pool: concurrent calls on one model give each caller its own vectors."""
    from concurrent.futures import ThreadPoolExecutor

    from embedtune.models import load_embedder
    from embedtune.retrieval import encode_texts

    model = load_embedder(tiny_model_dir, inference=name)
    chunks = [texts[i::4] for i in range(4)]
    alone = [encode_texts(model, c, batch_size=8, progress=False) for c in chunks]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda c: encode_texts(model, c, batch_size=8, progress=False), chunks * 3))
    for i, got in enumerate(together):
        np.testing.assert_allclose(got, alone[i % 4], atol=1e-5)


def test_cache_never_mixes_reduced_precision_vectors(tiny_model_dir, tmp_path):
    from embedtune.models import load_embedder
    from embedtune.retrieval import Document, encode_corpus, model_fingerprint

    docs = [Document(f"d{i}", t) for i, t in enumerate(sample_texts(40))]
    h = model_fingerprint(tiny_model_dir)
    paths = {}
    for name in ("torch", "onnx", "openvino", "torch-bf16", "onnx-int8", "openvino-bf16"):
        out = encode_corpus(load_embedder(tiny_model_dir, inference=name), docs, tmp_path, model_hash=h)
        paths[name] = out.path
    assert paths["onnx"] == paths["openvino"] == paths["torch"]  # fp32 either way: one entry
    assert len({paths["torch"], paths["torch-bf16"], paths["onnx-int8"], paths["openvino-bf16"]}) == 4


def test_default_inference_runners_and_unknown_names(tiny_model_dir, monkeypatch):
    from embedtune.encoding import default_inference, inference_of
    from embedtune.models import load_embedder
    from embedtune.retrieval.runner import Runner

    monkeypatch.setenv("EMBEDTUNE_INFERENCE", "torch-bf16")
    assert default_inference() == "torch-bf16"
    assert Runner.configure().inference == "torch-bf16"  # a command's runner starts from the environment
    monkeypatch.setenv("EMBEDTUNE_INFERENCE", "onnx")
    assert inference_of(load_embedder(tiny_model_dir)) == "onnx"
    # A runner's backend is its own: another in the same process is not changed by it, nor by the environment.
    assert inference_of(Runner.configure("torch").load_embedder(tiny_model_dir)) == "torch"
    assert inference_of(Runner.configure(None).load_embedder(tiny_model_dir)) == "onnx"
    with pytest.raises(EmbedtuneError, match="unknown inference backend"):
        load_embedder(tiny_model_dir, inference="tensorrt")
    with pytest.raises(EmbedtuneError, match="unknown inference backend"):
        Runner("tensorrt")


def test_training_loads_torch_whatever_the_default(tiny_model_dir, monkeypatch):
    from embedtune.encoding import inference_of
    from embedtune.models import load_embedder

    monkeypatch.setenv("EMBEDTUNE_INFERENCE", "onnx-int8")
    assert inference_of(load_embedder(tiny_model_dir, inference="torch")) == "torch"


@pytest.mark.integration
def test_minilm_int8_and_bf16_stay_close(minilm_dir):
    """The real model: the honest precision numbers behind the docs (int8 mean cosine ~0.997, bf16 ~0.9999)."""
    from embedtune.models import load_embedder
    from embedtune.retrieval import encode_texts

    texts = sample_texts(48)
    ref = encode_texts(load_embedder(minilm_dir, inference="torch"), texts, progress=False)
    for name, floor in (("torch-bf16", 0.99), ("onnx-int8", 0.98), ("openvino-bf16", 0.99)):
        got = encode_texts(load_embedder(minilm_dir, inference=name), texts, progress=False)
        cos = _cosines(got, ref)
        assert cos.min() >= floor and cos.mean() >= floor + 0.005, (name, cos.min(), cos.mean())


@pytest.mark.parametrize("native_bf16", [False, True])
def test_auto_loads_the_backend_picked_for_this_cpu(tiny_model_dir, monkeypatch, native_bf16):
    """``auto`` is resolved at load time; the model remembers the real backend (cache keys, Ray actors)."""
    from embedtune import hardware
    from embedtune.encoding import default_inference, inference_of
    from embedtune.models import load_embedder
    from embedtune.retrieval.runner import Runner

    flags = {"avx2", "avx512f", "avx512_bf16"} if native_bf16 else {"avx2"}
    cap = hardware.Capability("mock CPU", "AVX2", frozenset(flags), cores=2)
    monkeypatch.setattr(hardware, "detect", lambda: cap)
    picked = hardware.auto_inference(cap)
    assert inference_of(load_embedder(tiny_model_dir, inference="auto")) == picked
    monkeypatch.setenv("EMBEDTUNE_INFERENCE", "auto")
    assert default_inference() == picked == Runner.configure().inference
    assert inference_of(load_embedder(tiny_model_dir)) == picked


def test_auto_falls_back_to_torch_when_its_pick_fails_here(tiny_model_dir, monkeypatch, capsys):
    from embedtune import encoding, hardware
    from embedtune.encoding import inference_of
    from embedtune.models import load_embedder

    class Broken(encoding.InferenceBackend):
        name = "openvino"

        def prepare(self, model, path, threads):
            raise RuntimeError("no kernels for this ISA")

    monkeypatch.setattr(hardware, "auto_inference", lambda cap: "openvino")
    monkeypatch.setitem(encoding.BACKENDS, "openvino", Broken())
    assert inference_of(load_embedder(tiny_model_dir, inference="auto")) == "torch"
    assert "no kernels for this ISA" in capsys.readouterr().err
    with pytest.raises(RuntimeError):  # asked for by name: the error stands
        load_embedder(tiny_model_dir, inference="openvino")
