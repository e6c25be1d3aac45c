"""Scale-out on existing engines: Ray Data for encoding and LLM query writing; DDP (torchrun / accelerate) for training.

No cluster code of our own: Ray schedules the encoder and generator actors, torch.distributed runs the training
processes, Milvus stores and searches vectors across machines. ``docs/scaling.md`` says which takes over where.
"""

from embedtune.scale.ray_encode import (
    check_ray_address,
    connect_ray,
    encode_corpus_ray,
    encode_texts_ray,
    ray_address,
    set_ray_address,
)
from embedtune.scale.ray_generate import generate_on_ray

__all__ = [
    "check_ray_address",
    "connect_ray",
    "encode_corpus_ray",
    "encode_texts_ray",
    "generate_on_ray",
    "ray_address",
    "set_ray_address",
]
