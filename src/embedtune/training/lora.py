"""LoRA (Hu et al. 2021) via peft: train low-rank adapters instead of all weights.

Use for large or decoder-based embedding models where full fine-tuning does not fit or overfits. Adapter
layers are injected in place (peft's ``inject_adapter_in_model``; transformers' own adapter hook needs a peft
release newer than PyPI has), so trainer checkpoints hold them as ordinary weights and resume works. The final
model has them merged into the base weights, so plain ``SentenceTransformer(path)`` loads it offline, with no
peft and no reference to where the base model lived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from embedtune.training.config import TrainConfig

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def add_lora(model: SentenceTransformer, config: TrainConfig) -> None:
    from peft import LoraConfig, inject_adapter_in_model

    lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                      target_modules=_linear_names(model[0].auto_model))
    hf_model = inject_adapter_in_model(lora, model[0].auto_model)
    for name, param in hf_model.named_parameters():
        param.requires_grad = "lora_" in name


def _linear_names(hf_model) -> list[str]:
    """Leaf names of every Linear layer (peft's "all-linear" shortcut needs a PreTrainedModel wrapper)."""
    from torch import nn

    return sorted({n.rpartition(".")[2] for n, m in hf_model.named_modules() if isinstance(m, nn.Linear)})


def merge_lora(model: SentenceTransformer) -> None:
    """Fold every LoRA layer into its base layer, in place, and forget the adapter config."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    hf_model = model[0].auto_model
    for name, module in list(hf_model.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            setattr(hf_model.get_submodule(parent_name), child, module.get_base_layer())
    if hasattr(hf_model, "peft_config"):
        del hf_model.peft_config
