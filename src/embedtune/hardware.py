"""What this machine runs fast, detected in one place, and what ``auto`` picks from it.

Why: bf16 is fast only where the CPU has native bf16 units (Intel AMX, AVX512-BF16). Without them PyTorch
emulates it: on an AVX2-only AMD EPYC a bf16 matmul took 1,521 ms against 34.6 ms in fp32 (44x slower), and the
local query writer in bf16 wrote 0.07 queries/s instead of ~1. So every dtype/backend setting accepts ``auto``,
resolved here from :func:`detect`, and an explicit choice that will be slow here gets a one-line warning.

When: call a resolver where a setting is turned into a dtype or backend (loading a model, building training
arguments); call :func:`capability_record` to store the machine next to a timing (manifests, benchmark JSON).

Example::

    from embedtune.hardware import detect, resolve_dtype, resolve_inference, resolve_bf16
    detect().summary()  # 'AMD EPYC | torch AVX512 | avx2 avx_vnni avx512f avx512_vnni avx512_bf16 | 2 cores'
    resolve_dtype("auto")      # 'bfloat16' with AMX / AVX512-BF16, else 'float32'
    resolve_inference("auto")  # an embedtune.encoding backend name
    resolve_bf16("auto")       # training autocast on or off

``auto``'s choices were measured with ``benchmarks/cpu_dtypes.py`` (results in ``benchmarks/results/``).
``ONEDNN_MAX_CPU_ISA`` (e.g. ``AVX2``) masks the flags above that ISA, so an AVX2-only CPU can be emulated.
"""

from __future__ import annotations

import logging
import os
import platform
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

# /proc/cpuinfo flags that decide a choice, with the lowest ONEDNN_MAX_CPU_ISA level that keeps each.
FLAG_ISA: dict[str, str] = {
    "avx2": "AVX2",
    "avx_vnni": "AVX2_VNNI",
    "avx512f": "AVX512_CORE",
    "avx512_vnni": "AVX512_CORE_VNNI",
    "avx512_bf16": "AVX512_CORE_BF16",
    "amx_bf16": "AVX512_CORE_AMX",
    "amx_int8": "AVX512_CORE_AMX",
}
# oneDNN's ISA names, lowest first (AVX10 names are aliases of the AVX512 ones).
_ISA_ORDER = (
    "SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX2_VNNI_2", "AVX512_CORE", "AVX512_CORE_VNNI", "AVX512_CORE_BF16",
    "AVX512_CORE_FP16", "AVX512_CORE_AMX", "AVX512_CORE_AMX_FP16",
)
_ISA_ALIASES = {"AVX10_1_512": "AVX512_CORE_FP16", "AVX10_1_512_AMX": "AVX512_CORE_AMX",
                "AVX10_1_512_AMX_FP16": "AVX512_CORE_AMX_FP16"}

# The measured reason an emulated-bf16 choice is slow (issue 19, torch 2.13, AVX2-only EPYC).
BF16_SLOW_REASON = "a torch bf16 matmul measured ~44x slower than fp32 on an AVX2-only AMD EPYC"


@dataclass(frozen=True)
class Capability:
    """The CPU (and GPU) features that decide dtype and backend choices.

    Example: ``Capability("AMD EPYC", "AVX2", frozenset({"avx2"}), cores=2).native_bf16`` is False.
    """

    cpu_model: str
    torch_capability: str | None  # torch.backends.cpu.get_cpu_capability(): "AVX512", "AVX2", "DEFAULT", ...
    flags: frozenset[str]  # the FLAG_ISA flags present (after ONEDNN_MAX_CPU_ISA)
    cores: int = 1
    cuda: str | None = None  # GPU name when CUDA is available
    cuda_bf16: bool = False
    isa_limit: str | None = None  # ONEDNN_MAX_CPU_ISA when set (emulating a smaller CPU)

    @property
    def amx(self) -> bool:
        """Intel AMX tiles with bf16 (Sapphire Rapids and later): the fastest bf16 and int8 matmuls on CPU."""
        return "amx_bf16" in self.flags

    @property
    def native_bf16(self) -> bool:
        """bf16 matmuls run in hardware (AMX or AVX512-BF16); elsewhere they are emulated and slow."""
        return self.amx or "avx512_bf16" in self.flags

    @property
    def fast_int8(self) -> bool:
        """int8 dot products in one instruction (VNNI, AMX-INT8), what int8 inference needs to pay off."""
        return bool(self.flags & {"amx_int8", "avx512_vnni", "avx_vnni"})

    @property
    def avx512(self) -> bool:
        return "avx512f" in self.flags

    def summary(self) -> str:
        """One line: CPU model, torch's kernel level, decisive flags, cores (and GPU)."""
        flags = " ".join(f for f in FLAG_ISA if f in self.flags) or "no AVX2"
        parts = [self.cpu_model, f"torch {self.torch_capability or '?'}", flags, f"{self.cores} cores"]
        if self.isa_limit:
            parts.append(f"ONEDNN_MAX_CPU_ISA={self.isa_limit}")
        if self.cuda:
            parts.append(f"CUDA {self.cuda}")
        return " | ".join(parts)

    def record(self) -> dict[str, Any]:
        """JSON-ready dict for manifests and benchmark results."""
        return {
            "cpu_model": self.cpu_model,
            "torch_cpu_capability": self.torch_capability,
            "flags": sorted(self.flags),
            "native_bf16": self.native_bf16,
            "amx": self.amx,
            "fast_int8": self.fast_int8,
            "cores": self.cores,
            "cuda": self.cuda,
            "onednn_max_cpu_isa": self.isa_limit,
        }


def _cpuinfo() -> tuple[str, set[str]]:
    """(model name, flags) from /proc/cpuinfo; (platform.processor(), empty) where there is none."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or platform.machine() or "unknown CPU", set()
    model, flags = "", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "model name" and not model:
            model = value.strip()
        elif key == "flags" and not flags:
            flags = set(value.split())
        if model and flags:
            break
    return model or platform.processor() or "unknown CPU", flags


def isa_rank(name: str | None) -> int | None:
    """Position of a oneDNN ISA name in :data:`_ISA_ORDER`; None for unset, ALL, DEFAULT or unknown names."""
    if not name:
        return None
    name = _ISA_ALIASES.get(name.upper(), name.upper())
    return _ISA_ORDER.index(name) if name in _ISA_ORDER else None


def mask_flags(flags: set[str] | frozenset[str], isa_limit: str | None) -> frozenset[str]:
    """The decisive flags a CPU keeps under ``ONEDNN_MAX_CPU_ISA=isa_limit``."""
    limit = isa_rank(isa_limit)
    kept = {f for f in FLAG_ISA if f in flags}
    if limit is not None:
        kept = {f for f in kept if _ISA_ORDER.index(FLAG_ISA[f]) <= limit}
    return frozenset(kept)


@lru_cache(maxsize=1)
def detect() -> Capability:
    """This machine's capability (cached: the CPU does not change while a process runs)."""
    model, flags = _cpuinfo()
    isa_limit = os.environ.get("ONEDNN_MAX_CPU_ISA") or None
    torch_cap, cuda, cuda_bf16 = None, None, False
    try:
        import torch

        torch_cap = torch.backends.cpu.get_cpu_capability()
        if torch.cuda.is_available():
            cuda, cuda_bf16 = torch.cuda.get_device_name(0), bool(torch.cuda.is_bf16_supported())
    except (ImportError, RuntimeError, AttributeError) as e:  # a broken or CPU-less torch still gets a record
        log.debug("torch capability unavailable: %s", e)
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cores = max(1, os.cpu_count() or 1)
    return Capability(model, torch_cap, mask_flags(flags, isa_limit), cores, cuda, cuda_bf16, isa_limit)


def capability_record(cap: Capability | None = None) -> dict[str, Any]:
    """:meth:`Capability.record` of this machine, for manifests and benchmark JSON."""
    return (cap or detect()).record()


# ---- warnings -----------------------------------------------------------------------------------------------

_warned: set[str] = set()


def warn_slow(setting: str, reason: str) -> None:
    """One line on the console (and the log), once per process per setting, for a choice that is slow here."""
    if setting in _warned:
        return
    _warned.add(setting)
    from embedtune.progress import console, log_line

    message = f"{setting} will be slow on this CPU: {reason}; 'auto' picks the fast choice"
    console.print(f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)
    log_line(f"warning: {message}")


def _no_bf16_reason(cap: Capability) -> str:
    return f"{cap.cpu_model} has no AMX / AVX512-BF16, so bf16 is emulated ({BF16_SLOW_REASON})"


# ---- resolvers ----------------------------------------------------------------------------------------------

Dtype = Literal["auto", "float32", "bfloat16", "float16"]


def resolve_dtype(requested: Dtype | str = "auto", cap: Capability | None = None) -> str:
    """A torch dtype name for CPU weights: ``auto`` -> ``bfloat16`` with native bf16, else ``float32``.

    An explicit ``bfloat16`` / ``float16`` without hardware support is kept, with a warning.
    Example: ``getattr(torch, resolve_dtype(config.dtype))``.
    """
    cap = cap or detect()
    if requested == "auto":
        return "bfloat16" if cap.native_bf16 else "float32"
    if requested == "bfloat16" and not cap.native_bf16:
        warn_slow("dtype bfloat16", _no_bf16_reason(cap))
    elif requested == "float16" and "avx512_fp16" not in cap.flags:  # not a FLAG_ISA flag: always emulated here
        warn_slow("dtype float16", f"{cap.cpu_model} has no native fp16 matmul, so fp16 is emulated")
    return requested


def auto_inference(cap: Capability) -> str:
    """The encoding backend ``auto`` picks, by ``benchmarks/cpu_dtypes.py`` (all-MiniLM-L6-v2, 2 cores).

    - native bf16: ``openvino-bf16``, the fastest measured on both kinds (AMD EPYC with AVX512-BF16: 3.4x
      torch fp32, 92 vs 27 docs/s; AMX Xeon: 2.05x plain sentence-transformers, ``benchmarks/encode.py``).
    - otherwise: ``openvino`` f32, vectors as fp32 (same cache entries as torch): 1.46x torch under
      ``ONEDNN_MAX_CPU_ISA=AVX2`` emulation, 2.1x on AVX-512. ``onnx-int8`` is faster still (2.14x under
      emulation, but ONNX Runtime ignores that limit, so not an AVX2 number) and changes vectors: opt in.
    - a GPU: ``torch`` (the exported backends run on CPU).
    """
    if cap.cuda:
        return "torch"
    return "openvino-bf16" if cap.native_bf16 else "openvino"


def resolve_inference(requested: str | None = "auto", cap: Capability | None = None) -> str:
    """An :mod:`embedtune.encoding` backend name: ``auto`` (or None) -> :func:`auto_inference`.

    An explicit ``torch-bf16`` on a CPU without native bf16 is kept, with a warning (``openvino-bf16`` is not
    slow there: OpenVINO then stays in f32).
    """
    cap = cap or detect()
    if requested in (None, "auto"):
        return auto_inference(cap)
    if requested == "torch-bf16" and not cap.native_bf16 and not cap.cuda:
        warn_slow(f"inference {requested}", _no_bf16_reason(cap))
    return requested


def resolve_bf16(requested: bool | str = "auto", cap: Capability | None = None) -> bool:
    """Whether training runs under bf16 autocast: ``auto`` -> on a GPU with bf16, or a CPU with native bf16.

    Accepts bools and the strings ``auto``, ``true``, ``false`` (YAML and CLI values). An explicit True on a CPU
    without native bf16 is kept, with a warning.
    """
    cap = cap or detect()
    if isinstance(requested, str):
        if requested.lower() == "auto":
            return cap.cuda_bf16 if cap.cuda else cap.native_bf16
        requested = requested.lower() in ("1", "true", "yes", "on")
    if requested and not cap.cuda and not cap.native_bf16:
        warn_slow("train.bf16", _no_bf16_reason(cap))
    return bool(requested)


def measure_bf16_ratio(repeats: int = 3) -> tuple[float, float]:
    """(fp32 ms, bf16 ms) for the issue-19 matmul (512x576 @ 576x1536) on this machine, in about a second.

    A check of the flags-based choice (a VM can hide or fake flags); ``embedtune doctor --measure`` prints it.
    """
    import time

    import torch

    a, b = torch.randn(512, 576), torch.randn(576, 1536)
    out = []
    for dtype in (torch.float32, torch.bfloat16):
        x, y = a.to(dtype), b.to(dtype)
        x @ y  # first call: kernel selection
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            x @ y
            times.append(time.perf_counter() - t0)
            if times[-1] > 0.5:  # emulated bf16: one slow call says enough
                break
        out.append(sorted(times)[len(times) // 2] * 1000)
    return out[0], out[1]
