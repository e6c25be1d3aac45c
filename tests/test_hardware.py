"""Capability detection and what ``auto`` resolves to, on mocked CPUs; doctor; progress lines in logs."""

from __future__ import annotations

import json

import pytest

from embedtune import hardware
from embedtune.hardware import Capability

AVX2_EPYC = Capability("AMD EPYC 7B13", "AVX2", frozenset({"avx2"}), cores=2)
BF16_EPYC = Capability("AMD EPYC 9B14", "AVX512", frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}), 2)
AMX_XEON = Capability("Intel Xeon 8481C", "AVX512", frozenset(hardware.FLAG_ISA), cores=2)


@pytest.fixture(autouse=True)
def fresh_warnings(monkeypatch):
    """Each test sees its own once-per-process warnings."""
    monkeypatch.setattr(hardware, "_warned", set())


@pytest.fixture
def on_cpu(monkeypatch):
    """Make :func:`hardware.detect` report ``cap`` (what every default-argument resolver reads)."""

    def use(cap: Capability) -> Capability:
        monkeypatch.setattr(hardware, "detect", lambda: cap)
        return cap

    return use


def test_capability_flags():
    assert not AVX2_EPYC.native_bf16 and not AVX2_EPYC.fast_int8 and not AVX2_EPYC.amx
    assert BF16_EPYC.native_bf16 and BF16_EPYC.fast_int8 and not BF16_EPYC.amx
    assert AMX_XEON.native_bf16 and AMX_XEON.amx
    record = AVX2_EPYC.record()
    assert record["cpu_model"] == "AMD EPYC 7B13" and record["native_bf16"] is False and record["flags"] == ["avx2"]
    assert "AMD EPYC 7B13" in AVX2_EPYC.summary() and "AVX2" in AVX2_EPYC.summary()


@pytest.mark.parametrize(("cap", "dtype", "bf16"), [(AVX2_EPYC, "float32", False), (BF16_EPYC, "bfloat16", True),
                                                    (AMX_XEON, "bfloat16", True)])
def test_auto_is_bf16_only_with_native_bf16(cap, dtype, bf16, capsys):
    assert hardware.resolve_dtype("auto", cap) == dtype
    assert hardware.resolve_bf16("auto", cap) is bf16
    assert hardware.resolve_inference("auto", cap) == ("openvino-bf16" if bf16 else hardware.auto_inference(cap))
    assert hardware.resolve_inference(None, cap) == hardware.resolve_inference("auto", cap)
    assert "warning" not in capsys.readouterr().err


def test_explicit_bf16_on_avx2_warns_once_with_the_reason(capsys):
    assert hardware.resolve_dtype("bfloat16", AVX2_EPYC) == "bfloat16"  # kept: the user asked for it
    hardware.resolve_dtype("bfloat16", AVX2_EPYC)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "44x" in err and "AMD EPYC 7B13" in err
    assert hardware.resolve_bf16(True, AVX2_EPYC) is True
    assert hardware.resolve_inference("torch-bf16", AVX2_EPYC) == "torch-bf16"
    assert capsys.readouterr().err.count("warning:") == 2
    # Fast here, or not bf16: silent.
    hardware.resolve_dtype("bfloat16", BF16_EPYC), hardware.resolve_bf16(True, AMX_XEON)
    hardware.resolve_dtype("float32", AVX2_EPYC), hardware.resolve_bf16("false", AVX2_EPYC)
    hardware.resolve_inference("openvino-bf16", AVX2_EPYC)  # OpenVINO stays in f32 there: not slow
    assert "warning" not in capsys.readouterr().err


def test_onednn_isa_limit_masks_flags(monkeypatch):
    flags = set(hardware.FLAG_ISA) | {"sse4_2"}
    assert hardware.mask_flags(flags, "AVX2") == {"avx2"}
    assert hardware.mask_flags(flags, "avx512_core_vnni") == {"avx2", "avx_vnni", "avx512f", "avx512_vnni"}
    assert hardware.mask_flags(flags, None) == set(hardware.FLAG_ISA)
    assert hardware.mask_flags(flags, "ALL") == set(hardware.FLAG_ISA)
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: ("Intel Xeon", flags))
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    hardware.detect.cache_clear()
    try:
        cap = hardware.detect()
        assert cap.cpu_model == "Intel Xeon" and not cap.native_bf16 and cap.isa_limit == "AVX2"
        assert hardware.capability_record(cap)["onednn_max_cpu_isa"] == "AVX2"
    finally:
        hardware.detect.cache_clear()


def test_detect_this_machine():
    cap = hardware.detect()
    assert cap.cpu_model and cap.cores >= 1 and cap.torch_capability
    json.dumps(hardware.capability_record())  # JSON-ready


def test_doctor_shows_capability_and_auto(cli, on_cpu):
    on_cpu(AVX2_EPYC)
    code, out, _ = cli("doctor")
    assert code == 0 and "AMD EPYC 7B13" in out and "float32" in out
    code, out, _ = cli("doctor", "--json")
    got = json.loads(out)
    assert got["capability"]["native_bf16"] is False
    assert got["auto"]["generate.local.dtype (query writer)"] == "float32"
    on_cpu(AMX_XEON)
    assert json.loads(cli("doctor", "--json")[1])["auto"]["inference (encoding)"] == "openvino-bf16"


def test_doctor_measure_prints_the_ratio(cli, on_cpu, monkeypatch):
    on_cpu(AVX2_EPYC)
    monkeypatch.setattr(hardware, "measure_bf16_ratio", lambda: (34.6, 1521.0))  # issue 19's AVX2 EPYC
    code, out, _ = cli("doctor", "--measure")
    assert code == 0 and "34.6 ms in fp32, 1521.0 ms in bf16 (43.96x)" in out
    assert json.loads(cli("doctor", "--measure", "--json")[1])["measured"]["bf16_over_fp32"] == 43.96


def test_progress_prints_lines_when_not_a_terminal(monkeypatch, capsys):
    from embedtune import progress

    monkeypatch.setattr(progress, "LOG_EVERY_S", 0.0)  # every update is "30 s later"
    with progress.progress_bar() as bar:  # pytest's captured stderr is not a terminal
        task = bar.add_task("encoding", total=4)
        for _ in range(4):
            bar.advance(task)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("encoding: 1/4 (25%), elapsed ") and "eta" in lines[0]
    assert lines[-1].startswith("encoding: 4/4 (100%)") and lines[-1].endswith("done")
    monkeypatch.setattr(progress, "LOG_EVERY_S", 3600.0)
    with progress.progress_bar() as bar:  # a short task: no line at all
        bar.advance(bar.add_task("quick", total=2), 2)
    assert capsys.readouterr().err == ""


def test_consoles_are_wide_when_not_a_terminal(monkeypatch):
    from embedtune import progress

    monkeypatch.delenv("COLUMNS", raising=False)
    assert progress.make_console().width == progress.LOG_WIDTH
