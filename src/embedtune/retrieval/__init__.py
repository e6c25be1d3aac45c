"""Retrievers behind one interface (index documents, search queries -> run): BM25, dense, hybrid, rerank."""

from embedtune.hashing import model_fingerprint
from embedtune.retrieval.base import Document, Retriever, Run, corpus_hash, ranked, truncate_run
from embedtune.retrieval.bm25 import BM25Retriever
from embedtune.retrieval.dense import DenseRetriever, exact_search, model_display_name, truncate_dims
from embedtune.retrieval.embedding_cache import (
    CorpusEmbeddings,
    default_cache_dir,
    encode_corpus,
    encode_texts,
)
from embedtune.retrieval.hybrid import HybridRetriever, reciprocal_rank_fusion
from embedtune.retrieval.ray_encode import encode_corpus_ray, encode_texts_ray
from embedtune.retrieval.rerank import CrossEncoderReranker, RerankRetriever, load_cross_encoder

__all__ = [
    "BM25Retriever",
    "CorpusEmbeddings",
    "CrossEncoderReranker",
    "DenseRetriever",
    "Document",
    "HybridRetriever",
    "RerankRetriever",
    "Retriever",
    "Run",
    "corpus_hash",
    "default_cache_dir",
    "encode_corpus",
    "encode_corpus_ray",
    "encode_texts",
    "encode_texts_ray",
    "exact_search",
    "load_cross_encoder",
    "model_display_name",
    "model_fingerprint",
    "ranked",
    "reciprocal_rank_fusion",
    "truncate_dims",
    "truncate_run",
]
