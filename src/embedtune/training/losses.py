"""Build the training loss from the config: a contrastive loss, wrapped in MatryoshkaLoss.

- ``mnrl``: MultipleNegativesRankingLoss (InfoNCE with in-batch + hard negatives; van den Oord et al. 2018,
  Henderson et al. 2017). The default: the strongest simple choice for (query, passage[, negatives]) data.
- ``cached-mnrl``: the same objective with GradCache (Gao et al. 2021): large effective batches in bounded
  memory, at the cost of one extra forward pass.
- ``gist``: GISTEmbedLoss (Solatorio 2024): the base model guides which in-batch negatives are dropped as
  likely false negatives; use when the corpus has many near-duplicate passages.
- ``triplet``: TripletLoss with a cosine margin, for data with exactly one negative and no batch structure.
MatryoshkaLoss (Kusupati et al. 2022) trains prefixes of the vector to stand alone, so it can be cut to
64-256 dims at serving time; ``matryoshka_negatives: full-dim`` scores mined negatives at the full dim only
(``FullDimNegativesMatryoshkaLoss``), ``self-distill`` also teaches the smaller dims the full dim's ranking of
them (``SelfDistillMatryoshkaLoss``). ``distill: kl | margin-mse`` replaces the inner loss with MNRL plus
distillation of the teach stage's labels (``TeacherDistillLoss``), at every Matryoshka dim.

Across processes (``torchrun`` / ``accelerate launch``, DDP), MNRL and cached MNRL gather every process's
embeddings before the loss (``gather_across_devices``), so in-batch negatives come from the global batch
(per-device batch x processes), as one process with that batch would see them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedtune.training.config import TrainConfig

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from torch import nn


def world_size() -> int:
    """Training processes launched together (torchrun / accelerate set ``WORLD_SIZE``); 1 for a plain run."""
    import os

    return int(os.environ.get("WORLD_SIZE", "1"))


def process_rank() -> int:
    """This process's rank among them (``RANK``); 0 for a plain run, and for the process that records results."""
    import os

    return int(os.environ.get("RANK", "0"))


def build_loss(model: SentenceTransformer, config: TrainConfig, guide: SentenceTransformer | None = None) -> nn.Module:
    from sentence_transformers.sentence_transformer import losses

    gather = world_size() > 1
    if config.distill != "none":
        from embedtune.training.teacher_distillation import TeacherDistillLoss

        inner = TeacherDistillLoss(model, config.distill, config.scale, config.distill_weight,
                                   teacher_temperature=config.distill_temperature, gather_across_devices=gather)
        dims = config.resolved_dims(model.get_embedding_dimension())
        return losses.MatryoshkaLoss(model, inner, matryoshka_dims=dims) if len(dims) > 1 else inner
    if config.loss == "mnrl":
        inner = losses.MultipleNegativesRankingLoss(model, scale=config.scale, gather_across_devices=gather)
    elif config.loss == "cached-mnrl":
        inner = losses.CachedMultipleNegativesRankingLoss(
            model, scale=config.scale, mini_batch_size=config.mini_batch_size, gather_across_devices=gather
        )
    elif config.loss == "gist":
        if guide is None:
            raise ValueError("the gist loss needs a guide model")
        inner = losses.GISTEmbedLoss(model, guide, temperature=config.gist_temperature)
    else:
        inner = losses.TripletLoss(
            model, distance_metric=losses.TripletDistanceMetric.COSINE, triplet_margin=config.triplet_margin
        )
    dims = config.resolved_dims(model.get_embedding_dimension())
    if len(dims) <= 1:
        return inner
    if config.matryoshka_negatives == "full-dim":
        from embedtune.training.matryoshka_full_dim_negatives import FullDimNegativesMatryoshkaLoss

        return FullDimNegativesMatryoshkaLoss(model, inner, matryoshka_dims=dims)
    if config.matryoshka_negatives == "self-distill":
        from embedtune.training.matryoshka_self_distillation import SelfDistillMatryoshkaLoss

        return SelfDistillMatryoshkaLoss(model, inner, matryoshka_dims=dims)
    return losses.MatryoshkaLoss(model, inner, matryoshka_dims=dims)
