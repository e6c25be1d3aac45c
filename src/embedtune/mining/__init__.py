"""Hard-negative mining with positive-aware false-negative filters, calibration and an optional cross-encoder check."""

from embedtune.mining.calibration import Calibration, calibrate
from embedtune.mining.candidates import Candidates, bm25_candidates, dense_candidates
from embedtune.mining.config import MiningConfig
from embedtune.mining.cross_encoder_check import CrossEncoderCheck
from embedtune.mining.mine import (
    Mined,
    MiningResult,
    chunk_documents,
    load_train_pairs,
    load_triplets,
    mine,
    mine_negatives,
)
from embedtune.mining.report import MiningReport, mining_html, print_mining_summary

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
