"""Options shared by several commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from embedtune.retrieval.runner import Runner

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


def make_runner(inference: str | None = None, ray_address: str | None = None) -> Runner:
    """The command's :class:`~embedtune.retrieval.runner.Runner`, handed to the stages that encode: ``--inference``
    (None: ``$EMBEDTUNE_INFERENCE``, else torch) and ``--ray-address`` (None: everything in this process). An
    unknown backend or a malformed address is a one-line error here; an unreachable cluster when Ray is first used."""
    from embedtune.retrieval.runner import Runner

    return Runner.configure(inference, ray_address)


def quiet_libraries() -> None:
    """Keep the terminal to our own tables and bars: no per-load weight reports or download bars."""
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
