"""Where the ``mine`` stage lived before mining was split by concern; its names now live in the modules below.

Kept so that imports written against it (``benchmarks/``, older scripts) still resolve; new code imports from
:mod:`embedtune.mining`.
"""

from embedtune.mining.inputs import beir_queries, chunk_documents, load_train_pairs
from embedtune.mining.negatives import Mined, MinedRow, mine_negatives
from embedtune.mining.stage import FORMAT, STAGE, MiningResult, load_triplets, mine

__all__ = ["FORMAT", "STAGE", "Mined", "MinedRow", "MiningResult", "beir_queries", "chunk_documents",
           "load_train_pairs", "load_triplets", "mine", "mine_negatives"]
