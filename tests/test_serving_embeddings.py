"""``/v1/embeddings`` through the official OpenAI Python client, against SentenceTransformer.encode."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import openai
import pytest
from conftest import sample_texts
from test_serving_support import serving, store_dir  # noqa: F401  (fixture)

TEXTS = [t[:300] for t in sample_texts(5)]


@pytest.fixture(scope="module")
def reference(tiny_model_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_model_dir), device="cpu")


@pytest.fixture(scope="module")
def server(store_dir: Path):  # noqa: F811
    with serving(store_dir, max_batch=8, max_chars=1000) as url:
        yield url


def client(url: str, key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


@pytest.mark.parametrize("encoding_format", [None, "float", "base64"])
def test_vectors_equal_sentence_transformers(server: str, reference, encoding_format) -> None:
    # Without encoding_format the client asks for base64 and decodes it; asked for explicitly, it does not.
    kwargs = {"encoding_format": encoding_format} if encoding_format else {}
    response = client(server).embeddings.create(input=TEXTS, model="live", **kwargs)
    if encoding_format == "base64":
        got = np.stack([np.frombuffer(base64.b64decode(d.embedding), dtype="<f4") for d in response.data])
    else:
        got = np.array([d.embedding for d in response.data])
    want = reference.encode(TEXTS, normalize_embeddings=True)
    assert [d.index for d in response.data] == list(range(len(TEXTS)))
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert response.model == "v1"
    tokens = sum(len(ids) for ids in reference.tokenizer(TEXTS, truncation=True, max_length=128)["input_ids"])
    assert response.usage.prompt_tokens == response.usage.total_tokens == tokens


def test_dimensions_truncate_and_renormalise(server: str, reference) -> None:
    response = client(server).embeddings.create(input=TEXTS[0], model="live", dimensions=8)
    got = np.array(response.data[0].embedding)
    full = reference.encode([TEXTS[0]], normalize_embeddings=True)[0]
    assert got.shape == (8,)
    np.testing.assert_allclose(got, full[:8] / np.linalg.norm(full[:8]), atol=1e-5)


def test_a_named_version_encodes_with_its_own_model(server: str) -> None:
    response = client(server).embeddings.create(input="hello", model="small", encoding_format="float")
    assert response.model == "small" and len(response.data[0].embedding) == 32  # the model's full width


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        ({"input": "x", "dimensions": 64}, openai.UnprocessableEntityError, "larger than the model's 32"),
        ({"input": "x", "model": "text-embedding-3-small"}, openai.NotFoundError, "unknown index version"),
        ({"input": ""}, openai.UnprocessableEntityError, "empty"),
        ({"input": []}, openai.UnprocessableEntityError, "empty"),
        ({"input": ["ok", "  "]}, openai.UnprocessableEntityError, "input text 1 is empty"),
        ({"input": [[1, 2, 3]]}, openai.UnprocessableEntityError, "token-id inputs are not supported"),
        ({"input": ["x"] * 9}, openai.APIStatusError, "the limit is 8"),
        ({"input": "y" * 1001}, openai.APIStatusError, "the limit is 1,000"),
    ],
)
def test_bad_requests_are_openai_errors(server: str, kwargs, error, fragment) -> None:
    kwargs = {"model": "live", **kwargs}
    with pytest.raises(error) as caught:
        client(server).embeddings.create(**kwargs)
    assert fragment in caught.value.message
    assert caught.value.status_code in (404, 413, 422)
    assert "Traceback" not in caught.value.response.text


def test_api_key(store_dir: Path) -> None:  # noqa: F811
    with serving(store_dir, api_key="s3cret") as url:
        with pytest.raises(openai.AuthenticationError) as caught:
            client(url, "wrong").embeddings.create(input="x", model="live")
        assert caught.value.body["message"] == "incorrect API key"  # the client found OpenAI's error shape
        assert caught.value.code == "invalid_api_key"
        assert len(client(url, "s3cret").embeddings.create(input="x", model="live").data) == 1
