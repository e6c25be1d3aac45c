"""Scale-out on existing engines: Ray Data for corpus encoding; DDP (torchrun / accelerate) for training.

No cluster code of our own: Ray schedules the encoder actors, torch.distributed runs the training processes,
Milvus stores and searches vectors across machines. ``docs/scaling.md`` says which takes over where.
"""

from embedtune.scale.ray_encode import encode_corpus_ray, ray_address, set_ray_address

__all__ = ["encode_corpus_ray", "ray_address", "set_ray_address"]
