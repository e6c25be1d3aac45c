"""Fine-tune an embedding model with sentence-transformers' trainer; keep the best checkpoint; resume after a kill."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedtune.models import load_embedder
from embedtune.training.config import TrainConfig
from embedtune.dataset.dev_slice import EvalSplit
from embedtune.training.data import TrainPair, to_dataset
from embedtune.training.evaluator import MatryoshkaIREvaluator, best_metric_key
from embedtune.training.losses import build_loss, world_size
from embedtune.training.progress import RichProgressCallback


@dataclass
class TrainResult:
    model_dir: Path
    dims: list[int]
    steps: int
    seconds: float
    train_rows: int
    history: list[dict[str, Any]] = field(default_factory=list)
    best_metric: float | None = None


def _training_args(config: TrainConfig, out: Path, steps_per_epoch: int, has_eval: bool, dims: list[int]) -> Any:
    from sentence_transformers.sentence_transformer import SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.training_args import BatchSamplers

    import torch

    every = config.eval_every_steps or max(1, steps_per_epoch)
    # accelerate treats torchrun's processes as multi-CPU DDP (gloo), and allows bf16 autocast without a GPU,
    # only when told the run is on CPU.
    from embedtune.hardware import resolve_bf16

    bf16 = resolve_bf16(config.bf16)  # auto: only where the hardware runs bf16 natively (issue 19)
    use_cpu = (world_size() > 1 or bf16) and not torch.cuda.is_available()
    return SentenceTransformerTrainingArguments(
        use_cpu=use_cpu,
        output_dir=str(out),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=config.resolved_lr(),
        warmup_steps=config.warmup_ratio,  # transformers 5 reads a float < 1 as a ratio of the total steps
        bf16=bf16,
        # Identical texts in one batch would be false in-batch negatives.
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        eval_strategy="steps" if has_eval else "no",
        eval_steps=every,
        save_strategy="steps",
        save_steps=every,
        save_total_limit=2,
        load_best_model_at_end=has_eval,
        metric_for_best_model=best_metric_key(dims) if has_eval else None,
        greater_is_better=True,
        logging_steps=max(1, min(20, every)),
        report_to="none",
        seed=config.seed,
        data_seed=config.seed,
        dataloader_drop_last=False,
        dataloader_pin_memory=False,  # no accelerator on most users' machines; pinning only warns there
        disable_tqdm=True,
    )


WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "adapter_model.safetensors")


def _complete(checkpoint: Path) -> bool:
    """Written to the end: the trainer writes ``trainer_state.json`` after the weights and optimizer state."""
    return (checkpoint / "trainer_state.json").is_file() and any(
        (checkpoint / w).is_file() or any(checkpoint.glob(f"*/{w}")) for w in WEIGHT_FILES)


def last_complete_checkpoint(ckpt_dir: Path) -> str | None:
    """The newest complete ``checkpoint-N``; incomplete ones (a kill during a save) are removed (issue 20, D2)."""
    found = []
    for d in ckpt_dir.glob("checkpoint-*"):
        step = d.name.removeprefix("checkpoint-")
        if d.is_dir() and step.isdigit():
            if _complete(d):
                found.append((int(step), d))
            else:
                shutil.rmtree(d, ignore_errors=True)
    return str(max(found)[1]) if found else None


def train_model(
    base_model: str | Path,
    rows: Sequence[TrainPair],
    output_dir: str | Path,
    config: TrainConfig | None = None,
    eval_split: EvalSplit | None = None,
    negatives_pool: Sequence[str] = (),
    n_negatives: int | None = None,
) -> TrainResult:
    """Train ``base_model`` on ``rows`` and save the best model to ``output_dir/model``.

    Checkpoints go to ``output_dir/checkpoints``; calling again after an interruption resumes from the last one.
    Under ``torchrun`` / ``accelerate launch`` every process runs this (DDP: each takes a shard of every global
    batch, gradients are averaged); only the main process writes the final model and history.
    """
    from sentence_transformers.sentence_transformer import SentenceTransformerTrainer

    config = config or TrainConfig()
    out = Path(output_dir)
    ckpt_dir = out / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)

    model = load_embedder(base_model, inference="torch")  # training needs the fp32 torch modules
    serving_length = model.max_seq_length
    if config.max_seq_length:
        model.max_seq_length = config.max_seq_length  # a training-time cut only: saved with serving_length
    if config.lora:
        from embedtune.training.lora import add_lora

        add_lora(model, config)
    guide = load_embedder(base_model, inference="torch") if config.loss == "gist" else None
    n_neg = n_negatives if n_negatives is not None else min((len(r.negatives) for r in rows), default=0)
    if config.loss == "triplet":
        n_neg = 1
    dataset = to_dataset(rows, n_neg, pool=negatives_pool, seed=config.seed)
    dims = config.resolved_dims(model.get_embedding_dimension()) or [model.get_embedding_dimension()]
    evaluator = (
        MatryoshkaIREvaluator(eval_split.queries, eval_split.corpus, eval_split.relevant, dims) if eval_split else None
    )
    steps_per_epoch = -(-len(dataset) // (config.batch_size * world_size()))  # global batches under DDP
    trainer = SentenceTransformerTrainer(
        model=model,
        args=_training_args(config, ckpt_dir, steps_per_epoch, evaluator is not None, dims),
        train_dataset=dataset,
        loss=build_loss(model, config, guide),
        evaluator=evaluator,
        callbacks=[RichProgressCallback()],
    )
    t0 = time.perf_counter()
    state = trainer.train(resume_from_checkpoint=last_complete_checkpoint(ckpt_dir))
    seconds = time.perf_counter() - t0
    if config.lora:
        from embedtune.training.lora import merge_lora

        merge_lora(model)
    model.max_seq_length = serving_length
    final = out / "model"
    if not trainer.is_world_process_zero():  # DDP: one writer; the others wait so the folder is whole on return
        trainer.accelerator.wait_for_everyone()
        return TrainResult(model_dir=final, dims=dims, steps=state.global_step, seconds=round(seconds, 2),
                           train_rows=len(dataset), best_metric=trainer.state.best_metric)
    staging = out / ".model.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    shutil.rmtree(final, ignore_errors=True)
    staging.rename(final)
    history = [h for h in trainer.state.log_history if any(k.startswith("eval_") for k in h)]
    (out / "train_history.json").write_text(json.dumps(trainer.state.log_history, indent=2))
    trainer.accelerator.wait_for_everyone()
    return TrainResult(
        model_dir=final, dims=dims, steps=state.global_step, seconds=round(seconds, 2), train_rows=len(dataset),
        history=history, best_metric=trainer.state.best_metric,
    )
