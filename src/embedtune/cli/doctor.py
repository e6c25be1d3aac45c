"""``embedtune doctor``: what this machine runs fast, and what every ``auto`` setting picks here.

When: before a first run on a new machine, or when a stage is much slower than the README says (bf16 on a CPU
without native bf16 is the usual cause). Example::

    embedtune doctor            # a table
    embedtune doctor --json     # the record that manifests and benchmark results store
    embedtune doctor --measure  # also time a bf16 vs fp32 matmul here (about a second)
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from embedtune import hardware
from embedtune.hardware import FLAG_ISA, Capability, resolve_bf16, resolve_dtype, resolve_inference
from embedtune.progress import make_console


def auto_choices(cap: Capability) -> dict[str, str]:
    """Setting -> what ``auto`` resolves to on ``cap``."""
    return {
        "generate.local.dtype (query writer)": resolve_dtype("auto", cap),
        "inference (encoding)": resolve_inference("auto", cap),
        "train.bf16 (training autocast)": str(resolve_bf16("auto", cap)).lower(),
    }


def _yes(flag: bool) -> str:
    return "[green]yes[/]" if flag else "[yellow]no[/]"


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print the capability and auto choices as JSON.")] = False,
    measure: Annotated[bool, typer.Option("--measure", help="Time a bf16 vs fp32 matmul on this CPU (~1 s).")] = False,
) -> None:
    """Show the CPU (model, torch kernel level, bf16 / int8 instructions), any GPU, and what `auto` picks."""
    from embedtune.encoding import default_inference

    cap = hardware.detect()  # looked up at call time (tests mock it)
    choices = auto_choices(cap)
    timing = None
    if measure:
        fp32_ms, bf16_ms = hardware.measure_bf16_ratio()
        timing = {"matmul_512x576x1536_fp32_ms": round(fp32_ms, 2), "bf16_ms": round(bf16_ms, 2),
                  "bf16_over_fp32": round(bf16_ms / fp32_ms, 2)}
    if as_json:
        record = {"capability": cap.record(), "auto": choices, "inference_default": default_inference()}
        typer.echo(json.dumps(record | ({"measured": timing} if timing else {}), indent=2))
        return
    console = make_console()
    hw = Table(title="This machine", show_header=False)
    hw.add_column("what", style="bold")
    hw.add_column("value", overflow="fold")
    hw.add_row("CPU", cap.cpu_model)
    hw.add_row("cores for this process", str(cap.cores))
    hw.add_row("torch CPU kernels", cap.torch_capability or "?")
    for flag in FLAG_ISA:
        hw.add_row(f"  {flag}", _yes(flag in cap.flags))
    hw.add_row("native bf16 (AMX / AVX512-BF16)", _yes(cap.native_bf16))
    hw.add_row("fast int8 (VNNI / AMX-INT8)", _yes(cap.fast_int8))
    hw.add_row("CUDA", cap.cuda or "none")
    if cap.isa_limit:
        hw.add_row("ONEDNN_MAX_CPU_ISA", f"{cap.isa_limit} (flags above it are masked)")
    console.print(hw)
    auto = Table(title="What auto picks here")
    auto.add_column("setting")
    auto.add_column("auto ->", style="bold")
    for setting, value in choices.items():
        auto.add_row(setting, value)
    console.print(auto)
    console.print(f"encoding default for this shell: {default_inference()} "
                  "(--inference, $EMBEDTUNE_INFERENCE, else torch)", highlight=False)
    if timing:
        console.print(f"measured here: a 512x576 @ 576x1536 matmul takes {timing['matmul_512x576x1536_fp32_ms']} ms "
                      f"in fp32, {timing['bf16_ms']} ms in bf16 ({timing['bf16_over_fp32']}x)", highlight=False)
    if not cap.native_bf16:
        console.print("[yellow]no native bf16:[/] keep bf16 settings on auto (bf16 here is emulated, ~44x slower "
                      "for a matmul on an AVX2-only EPYC)", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
