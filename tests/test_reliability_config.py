"""Issue 20, D6 (generic part): unknown YAML keys are errors with the nearest name; all problems in one message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from embedtune.errors import EmbedtuneError
from embedtune.yaml_file import read_yaml, validate_settings


class Inner(BaseModel):
    epochs: int = Field(1, ge=1)
    batch_size: int = Field(32, gt=0)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "x"


class Free(BaseModel):
    model_config = ConfigDict(extra="allow")


class Settings(BaseModel):
    train: Inner = Field(default_factory=Inner)
    strict: Strict | None = None
    rounds: list[Inner] = Field(default_factory=list)
    by_name: dict[str, Inner] = Field(default_factory=dict)
    free: Free = Field(default_factory=Free)
    seed: int = 0


def _error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(EmbedtuneError) as e:
        validate_settings(Settings, read_yaml(path), path)
    return str(e.value)


def test_unknown_key_is_an_error_with_the_nearest_name(tmp_path: Path):
    expected = f"{tmp_path / 'c.yaml'}: train.epochz: unknown key (did you mean 'epochs'?)"
    assert _error(tmp_path, "train:\n  epochz: 3\n") == expected


def test_unknown_keys_are_found_in_nested_lists_dicts_and_optional_models(tmp_path: Path):
    message = _error(tmp_path, "rounds:\n  - {epochs: 2, batchsize: 4}\nby_name:\n  a: {epoch: 1}\n"
                               "strict: {nam: y}\nsede: 1\nfree: {anything: 1}\n")
    assert "4 problems: " in message
    assert "rounds.0.batchsize: unknown key (did you mean 'batch_size'?)" in message
    assert "by_name.a.epoch: unknown key (did you mean 'epochs'?)" in message
    assert "strict.nam: unknown key (did you mean 'name'?)" in message  # once, not again as "extra inputs"
    assert "sede: unknown key (did you mean 'seed'?)" in message
    assert "free" not in message and "Extra inputs" not in message


def test_every_problem_is_reported_at_once_in_one_line(tmp_path: Path):
    message = _error(tmp_path, "train:\n  epochs: 0\n  batch_size: 0\n  epochz: 1\nseed: many\n")
    assert message.startswith(f"{tmp_path / 'c.yaml'}: 4 problems: ") and "\n" not in message
    for part in ("train.epochz: unknown key", "train.epochs: Input should be greater than or equal to 1",
                 "train.batch_size: Input should be greater than 0", "seed: Input should be a valid integer"):
        assert part in message


def test_valid_settings_pass(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("train: {epochs: 2}\nrounds: [{batch_size: 8}]\nfree: {x: 1}\n")
    assert validate_settings(Settings, read_yaml(path), path).rounds[0].batch_size == 8


def test_run_config_rejects_a_misspelled_training_key(tmp_path: Path):
    from embedtune.pipeline.config import load_run_config

    path = tmp_path / "run.yaml"
    path.write_text("train:\n  epochz: 3\n")
    with pytest.raises(EmbedtuneError, match=r"run\.yaml: train\.epochz: unknown key \(did you mean 'epochs'\?\)"):
        load_run_config(path)
