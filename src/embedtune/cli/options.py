"""Options shared by several commands."""

from __future__ import annotations

import os
from typing import Annotated

import typer

INFERENCE_HELP = (
    "How encoding runs: torch (fp32), torch-bf16 (autocast; fast with AMX), onnx (ONNX Runtime fp32), "
    "onnx-int8 (dynamic int8; vectors differ slightly), openvino (OpenVINO fp32) or openvino-bf16 (fastest "
    "with AMX; vectors differ slightly). Default: $EMBEDTUNE_INFERENCE or torch."
)

InferenceOpt = Annotated[str | None, typer.Option("--inference", help=INFERENCE_HELP, rich_help_panel="Speed")]


RAY_HELP = (
    "Run encoding and LLM query writing on a Ray cluster: auto, HOST:PORT, ray://HOST:10001, or local for a Ray "
    "instance on this machine. Results land in the same caches as a local run."
)

RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help=RAY_HELP, rich_help_panel="Speed")]


def use_ray(address: str | None) -> None:
    """Route this process's corpus and query encoding and LLM query writing through Ray at ``address`` (None:
    keep them local). A malformed address is a one-line error here; an unreachable one when Ray is first used."""
    if address is not None:
        from embedtune.scale import set_ray_address

        set_ray_address(address)


def use_inference(name: str | None) -> str:
    """Make ``name`` the process default (and the environment's, for worker processes); returns the effective one."""
    from embedtune.encoding import default_inference, set_default_inference

    if name is not None:
        set_default_inference(name)
        os.environ["EMBEDTUNE_INFERENCE"] = name
    return default_inference()


def quiet_libraries() -> None:
    """Keep the terminal to our own tables and bars: no per-load weight reports or download bars."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
