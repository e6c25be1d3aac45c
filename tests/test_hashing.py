"""Model fingerprints: the content identity every cache and stage record keys a model by."""

from __future__ import annotations

import os

from embedtune.hashing import fingerprint_dir, model_fingerprint, sha256_file


def test_a_model_fingerprint_is_its_content_and_follows_an_edit(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"dim": 8}')
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    first = model_fingerprint(model)
    assert first == fingerprint_dir(model)
    assert model_fingerprint(model / "weights.bin") == sha256_file(model / "weights.bin")

    copy = tmp_path / "copy"
    copy.mkdir()
    for f in model.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    assert model_fingerprint(copy) == first  # content, not location

    # Same size, new content: the memo is keyed on size and mtime, so a rewrite is hashed again.
    (model / "weights.bin").write_bytes(b"\x01" * 64)
    stat = (model / "weights.bin").stat()
    os.utime(model / "weights.bin", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert model_fingerprint(model) != first


def test_the_model_card_is_not_part_of_a_model_fingerprint(tmp_path):
    """run rewrites README.md after evaluating; the vectors cached for the model must stay valid."""
    model = tmp_path / "model"
    (model / "docs").mkdir(parents=True)
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    (model / "README.md").write_text("card v1")
    (model / "docs" / "README.md").write_text("nested")
    first = model_fingerprint(model)
    (model / "README.md").write_text("card v2, rewritten after evaluation")
    assert model_fingerprint(model) == first
    (model / "docs" / "README.md").write_text("a nested file named README.md is content")
    assert model_fingerprint(model) != first
