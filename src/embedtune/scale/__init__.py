"""Scale-out on existing engines: Ray Data for encoding and LLM query writing; DDP (torchrun / accelerate) for training.

No cluster code of our own: Ray schedules the encoder and generator actors, torch.distributed runs the training
processes, Milvus stores and searches vectors across machines. ``docs/scaling.md`` says which takes over where.

This package is the bottom of the Ray work: checking a cluster address (``--ray-address``), joining it, the
actor pool and one-line failures; which cluster a run uses travels with its
:class:`~embedtune.retrieval.runner.Runner`. The Ray jobs sit beside the local code they stand in for, above it in the import order:
:func:`embedtune.retrieval.encode_corpus_ray` / :func:`~embedtune.retrieval.encode_texts_ray` and
:func:`embedtune.querygen.backends.generate_on_ray`.
"""

from embedtune.scale.cluster import (
    actor_pool,
    check_ray_address,
    connect_ray,
    ray_failure,
)

__all__ = [
    "actor_pool",
    "check_ray_address",
    "connect_ray",
    "ray_failure",
]
