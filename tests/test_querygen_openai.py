"""The OpenAI-compatible backend against a chat-completions server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from embedtune.corpus.chunk import Chunk
from embedtune.errors import EmbedtuneError
from embedtune.querygen import (
    ChatRequest,
    FilterConfig,
    GenerateConfig,
    GenerationCache,
    OpenAICompatBackend,
    OpenAIOptions,
    estimate_generation,
    generate_queries,
    load_queries,
)
from embedtune.querygen.cache import CACHE_FILE
from embedtune.samples import scifact_sample
from embedtune.workspace import Workspace, write_jsonl


def make_workspace(root: Path, n: int) -> Path:
    """A workspace whose chunks.jsonl holds the first ``n`` abstracts of the bundled SciFact sample."""
    rows = [json.loads(line) for line in (scifact_sample() / "corpus.jsonl").read_text().splitlines()[:n]]
    chunks = [
        Chunk(id=f"c{r['_id']}", doc_id=r["_id"], title=r["title"], text=f"{r['title']}\n{r['text']}",
              source="scifact", start_char=0, end_char=len(r["text"]), n_tokens=200, title_included=True)
        for r in rows
    ]
    write_jsonl(root / "chunks.jsonl", (c.model_dump() for c in chunks))
    return root


def topical_queries(prompt: str, n: int) -> list[str]:
    """Questions built from the passage's last long words (past the title), so BM25 finds the passage again."""
    passage = prompt.split('"""')[1] if '"""' in prompt else prompt
    words = list(dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z]{7,}", passage)))[::-1]
    return [
        f"What is known about {words[2 * i % len(words)]} and {words[(2 * i + 1) % len(words)]}, part {i + 1}?"
        for i in range(n)
    ]


class FakeChat:
    """A chat-completions server: faults are consumed in order, then every request succeeds."""

    def __init__(self) -> None:
        self.faults: list[str] = []
        self.always: str | None = None
        self.hits = 0
        self.prompts: list[str] = []
        self.auth: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.delay = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake.lock:
                    fake.hits += 1
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    fault = fake.always or (fake.faults.pop(0) if fake.faults else "ok")
                    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
                    fake.prompts.append(user)
                    fake.auth.append(self.headers.get("Authorization"))
                try:
                    time.sleep(fake.delay)
                    fake.respond(self, fault, user, int(re.search(r"Write (\d+)", user).group(1)))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)
                finally:
                    with fake.lock:
                        fake.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def respond(handler: BaseHTTPRequestHandler, fault: str, user: str, n: int) -> None:
        def send(code: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
            handler.send_response(code)
            for k, v in (headers or {}).items():
                handler.send_header(k, v)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)

        def completion(content: str) -> bytes:
            return json.dumps({
                "choices": [{"message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 20},
            }).encode()

        queries = topical_queries(user, n)
        if fault == "429":
            send(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0.2"})
        elif fault in ("500", "503"):
            send(int(fault), b"upstream exploded")
        elif fault == "timeout":
            time.sleep(0.6)
            send(200, completion(json.dumps(queries)))
        elif fault == "malformed":
            send(200, b'{"choices": [{"message": ')
        elif fault == "fences":
            send(200, completion("Sure! Here they are:\n```json\n" + json.dumps(queries) + "\n```\nLet me know [if] more."))
        elif fault == "few":
            send(200, completion(json.dumps(queries[:1])))
        elif fault == "401":
            send(401, json.dumps({"error": {"message": f"bad key {handler.headers.get('Authorization')}"}}).encode())
        elif fault == "404":
            send(404, b'{"error": {"message": "model nope does not exist"}}')
        else:
            send(200, completion(json.dumps(queries)))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def chat():
    server = FakeChat()
    yield server
    server.close()


def backend(chat: FakeChat, **kw) -> OpenAICompatBackend:
    opts = {"backoff_base": 0.001, "backoff_max": 1.0, "timeout": 0.3, "concurrency": 1} | kw
    return OpenAICompatBackend(chat.url, "fake-model", **opts)


def requests(n: int, k: int = 3) -> list[ChatRequest]:
    return [
        ChatRequest(f"key{i}", ({"role": "user", "content": f'Passage:\n"""\nmitochondria{i} ribosomes{i} membrane proteins\n"""\nWrite {k} questions'},), k)
        for i in range(n)
    ]


def collect(b: OpenAICompatBackend, reqs: list[ChatRequest]) -> dict:
    out = {}
    b.generate(reqs, lambda req, res: out.__setitem__(req.key, res))
    return out


def test_every_fault_is_retried_and_the_run_completes(chat):
    chat.faults = ["429", "500", "timeout", "malformed", "fences", "few"]
    b = backend(chat)
    t0 = time.perf_counter()
    results = collect(b, requests(6))
    assert len(results) == 6 and all(r.error is None for r in results.values())
    # 429, 500, the timeout and the malformed body each cost one extra attempt; fences and "few" parse at once.
    assert chat.hits == 10 and b.retries == 4
    assert time.perf_counter() - t0 >= 0.2  # Retry-After: 0.2 was honoured (the backoff base is 1 ms)
    counts = sorted(len(r.queries) for r in results.values())
    assert counts == [1, 3, 3, 3, 3, 3]  # the short reply is kept as is
    assert all(r.prompt_tokens >= 100 for r in results.values())


def test_retries_are_bounded_and_failures_reported(chat):
    chat.always = "503"
    results = collect(backend(chat, max_attempts=3), requests(2))
    assert chat.hits == 6
    assert all(r.error == "HTTP 503" and not r.queries for r in results.values())


def test_concurrency_and_rate_are_capped(chat):
    chat.delay = 0.05
    collect(backend(chat, concurrency=2), requests(6))
    assert chat.max_in_flight == 2
    t0 = time.perf_counter()
    collect(backend(chat, concurrency=4, requests_per_minute=600), requests(4))  # one start per 0.1 s
    assert time.perf_counter() - t0 >= 0.3


def test_bad_key_is_one_line_without_the_key(chat, monkeypatch):
    monkeypatch.setenv("MY_LLM_KEY", "sk-secret-123")
    chat.always = "401"
    with pytest.raises(EmbedtuneError) as err:
        collect(backend(chat, api_key_env="MY_LLM_KEY", concurrency=4), requests(5))
    assert "401" in str(err.value) and "$MY_LLM_KEY" in str(err.value)
    assert "sk-secret" not in str(err.value) and "\n" not in str(err.value)
    assert chat.auth[0] == "Bearer sk-secret-123"
    assert "sk-secret" not in repr(backend(chat, api_key_env="MY_LLM_KEY"))


def test_unknown_model_and_unreachable_endpoint_are_one_line(chat):
    chat.always = "404"
    with pytest.raises(EmbedtuneError, match="model nope does not exist; check model and base_url"):
        collect(backend(chat), requests(1))
    dead = OpenAICompatBackend("http://127.0.0.1:9/v1", "m", backoff_base=0.001)
    with pytest.raises(EmbedtuneError, match="cannot reach the endpoint"):
        collect(dead, requests(1))


def openai_config(chat: FakeChat, **kw) -> GenerateConfig:
    return GenerateConfig(
        backend="openai", model="fake-model", per_chunk=2, signals=[],
        openai=OpenAIOptions(base_url=chat.url, backoff_base=0.001, timeout=2, price_in=1.0, price_out=2.0),
        filters=FilterConfig(encoder=None), **kw,
    )


class KilledAfter(OpenAICompatBackend):
    """Dies like a Ctrl-C after ``k`` results were handed back (and cached)."""

    def __init__(self, k: int, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.k = k

    def generate(self, reqs, on_result):
        done = 0

        def counting(req, res):
            nonlocal done
            on_result(req, res)
            done += 1
            if done == self.k:
                raise KeyboardInterrupt

        super().generate(reqs, counting)


def test_killed_run_resumes_without_paying_twice(chat, tmp_path):
    ws = make_workspace(tmp_path / "ws", 12)
    config = openai_config(chat, styles=["question", "keyword"])
    est = estimate_generation(ws, config)
    assert est is not None and est.new_calls == 24 and est.cost_usd and est.cost_usd > 0 and chat.hits == 0

    killer = KilledAfter(5, chat.url, "fake-model", concurrency=1, backoff_base=0.001)
    with pytest.raises(KeyboardInterrupt):
        generate_queries(ws, config, backend=killer)
    assert Workspace(ws).stage_record("generate").status == "failed"
    with GenerationCache(ws / CACHE_FILE) as cache:
        assert len(cache) == 5
    first_hits, first_prompts = chat.hits, list(chat.prompts)

    report = generate_queries(ws, config)
    assert chat.hits - first_hits == 24 - 5  # only what was not cached
    assert not set(chat.prompts[first_hits:]) & set(first_prompts[:5])
    assert report.llm is not None and report.llm.cached_calls == 5 and report.llm.new_calls == 19
    assert report.llm.prompt_tokens == 100 * 19 and report.llm.cost_usd == pytest.approx((1900 * 1 + 380 * 2) / 1e6)
    queries = load_queries(ws)
    assert queries and {q.style for q in queries} == {"question", "keyword"}
    assert all(q.backend == "openai" and q.model == "fake-model" and len(q.prompt_hash or "") == 64 for q in queries)
    assert report.kept["openai/question"] + report.kept["openai/keyword"] == len(queries)

    hits = chat.hits
    generate_queries(ws, config)  # current: nothing to do
    generate_queries(ws, config, force=True)  # forced: everything from the cache
    assert chat.hits == hits


def test_changing_one_template_regenerates_only_its_calls(chat, tmp_path):
    ws = make_workspace(tmp_path / "ws", 8)
    config = openai_config(chat, styles=["question", "keyword"])
    generate_queries(ws, config)
    hits = chat.hits
    assert hits == 16
    prompts = tmp_path / "prompts" / "list"
    prompts.mkdir(parents=True)
    (prompts / "keyword.txt").write_text('Passage:\n"""\n$passage\n"""\nWrite $n keyword queries as a JSON list.\n')
    report = generate_queries(ws, config.model_copy(update={"prompt_dir": tmp_path / "prompts"}))
    assert chat.hits - hits == 8  # the keyword half only
    assert report.llm is not None and report.llm.cached_calls == 8


def test_failed_calls_are_retried_by_a_plain_rerun(chat, tmp_path):
    ws = make_workspace(tmp_path / "ws", 3)
    config = openai_config(chat).model_copy(update={"openai": OpenAIOptions(base_url=chat.url, max_attempts=1)})
    chat.faults = ["500"]
    report = generate_queries(ws, config)
    assert report.llm is not None and report.llm.failed_calls == 1 and report.llm.errors == {"HTTP 500": 1}
    hits = chat.hits
    report = generate_queries(ws, config)  # not current: one call failed
    assert chat.hits - hits == 1 and report.llm is not None and report.llm.failed_calls == 0


def test_multihop_pairs_neighbouring_chunks_of_one_document(chat, tmp_path):
    ws = make_workspace(tmp_path / "ws", 3)
    rows = [json.loads(line) for line in (ws / "chunks.jsonl").read_text().splitlines()]
    body = rows[0]["text"].split("\n", 1)[1]
    half = len(body) // 2
    first = dict(rows[0], id="c-a", text=f"{rows[0]['title']}\n{body[:half]}", end_char=half)
    second = dict(rows[0], id="c-b", text=f"{rows[0]['title']}\n{body[half:]}", start_char=half)
    write_jsonl(ws / "chunks.jsonl", [second, first, *rows[1:]])
    config = openai_config(chat, styles=["multihop"]).model_copy(update={"per_chunk": 1})
    config.filters.round_trip = "none"
    generate_queries(ws, config)
    by_chunk = {q.chunk_id: q for q in load_queries(ws)}
    assert by_chunk["c-a"].style == "multihop" and by_chunk["c-a"].related_chunk_ids == ["c-b"]
    assert by_chunk["c-b"].related_chunk_ids == ["c-a"]  # the last chunk pairs with the one before it
    assert {by_chunk[r["id"]].style for r in rows[1:]} == {"question"}  # one-chunk documents: plain questions
    assert any("Passage 2:" in p for p in chat.prompts)
