"""Corpus encoding on a local Ray instance writes the local path's artifact: same ids, key, format, vectors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import sample_texts

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=100 * 1024 * 1024, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_encoding_matches_local(local_ray, tiny_model_dir, tmp_path):
    from embedtune.models import load_embedder
    from embedtune.retrieval import Document, encode_corpus, model_fingerprint
    from embedtune.scale import encode_corpus_ray

    docs = [Document(f"doc-{i:04d}", t, title=f"title {i}") for i, t in enumerate(sample_texts(300))]
    remote = encode_corpus_ray(tiny_model_dir, docs, tmp_path / "ray", block_size=64, cpus_per_actor=1)
    local = encode_corpus(load_embedder(tiny_model_dir), docs, tmp_path / "local",
                          model_hash=model_fingerprint(tiny_model_dir))
    assert remote.ids == local.ids == [d.id for d in docs]
    assert not remote.cache_hit and remote.path.name == local.path.name  # the same cache key
    assert remote.vectors.dtype == np.float32 and remote.vectors.shape == local.vectors.shape
    assert ((remote.vectors * local.vectors).sum(axis=1)).min() >= 0.999

    # The file Ray wrote is the local path's artifact: the local stage reads it back as a cache hit.
    again = encode_corpus(load_embedder(tiny_model_dir), docs, tmp_path / "ray",
                          model_hash=model_fingerprint(tiny_model_dir))
    assert again.cache_hit and np.array_equal(again.vectors, remote.vectors)
