"""WiSE-FT / LM-Cocktail merging: alpha 0 and 1 reproduce base and tuned exactly, other alphas interpolate."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from embedtune.errors import EmbedtuneError
from embedtune.gate import interpolate_state_dicts, merge_models


def perturbed(model_dir: Path, out: Path, scale: float, seed: int = 1) -> Path:
    """A copy of the model with Gaussian noise of std ``scale`` added to every float weight."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * scale)
    model.save(str(out))
    return out


@pytest.fixture(scope="module")
def tuned_dir(tiny_model_dir, tmp_path_factory) -> Path:
    return perturbed(tiny_model_dir, tmp_path_factory.mktemp("tuned") / "model", 0.05)


def states(*dirs):
    from sentence_transformers import SentenceTransformer

    return [SentenceTransformer(str(d), device="cpu").state_dict() for d in dirs]


def test_alpha_0_and_1_reproduce_base_and_tuned_exactly(tiny_model_dir, tuned_dir, tmp_path) -> None:
    base, tuned = states(tiny_model_dir, tuned_dir)
    for alpha, expected in ((0.0, base), (1.0, tuned)):
        merge_models(str(tiny_model_dir), str(tuned_dir), alpha, tmp_path / f"a{alpha}")
        (saved,) = states(tmp_path / f"a{alpha}")
        assert set(saved) == set(expected)
        assert all(torch.equal(saved[k], expected[k]) for k in expected)  # bit for bit, saved and reloaded
    assert not all(torch.equal(base[k], tuned[k]) for k in base)


def test_intermediate_alpha_is_the_weighted_average(tiny_model_dir, tuned_dir) -> None:
    base, tuned = states(tiny_model_dir, tuned_dir)
    merged = merge_models(str(tiny_model_dir), str(tuned_dir), 0.25).state_dict()
    for k, b in base.items():
        if torch.is_floating_point(b):
            assert torch.allclose(merged[k], 0.75 * b + 0.25 * tuned[k], atol=1e-7)
        else:
            assert torch.equal(merged[k], b)  # integer buffers copied, not averaged
    vectors = merge_models(str(tiny_model_dir), str(tuned_dir), 0.0).encode(["a test sentence"])
    from sentence_transformers import SentenceTransformer

    assert (vectors == SentenceTransformer(str(tiny_model_dir), device="cpu").encode(["a test sentence"])).all()


def test_different_architectures_and_bad_alpha_are_refused() -> None:
    a = {"w": torch.zeros(2, 3), "ids": torch.arange(3)}
    with pytest.raises(EmbedtuneError, match="shape"):
        interpolate_state_dicts(a, {"w": torch.zeros(3, 2), "ids": torch.arange(3)}, 0.5)
    with pytest.raises(EmbedtuneError, match="different architectures"):
        interpolate_state_dicts(a, {"w": torch.zeros(2, 3)}, 0.5)
    with pytest.raises(EmbedtuneError, match="non-float buffer"):
        interpolate_state_dicts(a, {"w": torch.zeros(2, 3), "ids": torch.arange(1, 4)}, 0.5)
    with pytest.raises(EmbedtuneError, match=r"\[0, 1\]"):
        interpolate_state_dicts(a, a, 1.5)
