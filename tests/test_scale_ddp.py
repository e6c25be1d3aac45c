"""Training across 2 CPU processes (torchrun, DDP over gloo) gives a model like single-process training."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_training_matches_single_process_shape(tiny_model_dir, tmp_path):
    from ddp_train_worker import config, pairs
    from sentence_transformers import SentenceTransformer

    from embedtune.training import train_model

    single = train_model(tiny_model_dir, pairs(), tmp_path / "single", config())

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent / "src"),
                                                        os.environ.get("PYTHONPATH", "")]),
           "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
           "--master-port", str(_free_port()), str(HERE / "ddp_train_worker.py"), str(tiny_model_dir),
           str(tmp_path / "ddp")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]

    # Each process takes half of every global batch: half the optimizer steps of one process.
    steps = json.loads((tmp_path / "ddp" / "steps.json").read_text())["steps"]
    assert steps == -(-len(pairs()) // (config().batch_size * 2)) and single.steps == 2 * steps

    ddp_model = SentenceTransformer(str(tmp_path / "ddp" / "model"), device="cpu")  # offline: HF_HUB_OFFLINE
    single_model = SentenceTransformer(str(single.model_dir), device="cpu")
    base = SentenceTransformer(str(tiny_model_dir), device="cpu")
    text = ["a claim about cells", "another, longer text about proteins and their binding sites"]
    a, b = ddp_model.encode(text), single_model.encode(text)
    assert a.shape == b.shape and ddp_model.get_embedding_dimension() == single_model.get_embedding_dimension()
    assert [type(m).__name__ for m in ddp_model] == [type(m).__name__ for m in single_model]
    assert not np.allclose(a, base.encode(text))  # the DDP run trained
