"""Hard-negative mining with positive-aware false-negative filters, calibration and an optional cross-encoder check.

One concept per module: :mod:`~embedtune.mining.inputs` (what mining reads), :mod:`~embedtune.mining.negatives`
(the algorithm, in memory), :mod:`~embedtune.mining.summary` (its report), :mod:`~embedtune.mining.stage` (the
recorded ``mine`` stage), with the filters, calibration, candidates, sampling and cross-encoder check beside them.
"""

from embedtune.mining.calibration import Calibration, calibrate
from embedtune.mining.candidates import Candidates, bm25_candidates, dense_candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.cross_encoder_check import CrossEncoderCheck
from embedtune.mining.inputs import chunk_documents, load_train_pairs
from embedtune.mining.negatives import Mined, mine_negatives
from embedtune.mining.report import MiningReport, mining_html, print_mining_summary
from embedtune.mining.stage import MiningResult, load_triplets, mine

__all__ = [
    "Calibration",
    "Candidates",
    "CrossEncoderCheck",
    "Mined",
    "MiningConfig",
    "MiningReport",
    "MiningResult",
    "bm25_candidates",
    "calibrate",
    "chunk_documents",
    "dense_candidates",
    "load_train_pairs",
    "load_triplets",
    "mine",
    "mine_negatives",
    "mining_html",
    "print_mining_summary",
]
