#!/usr/bin/env bash
# Quick start, command 2: the whole test suite, built with AddressSanitizer and
# UndefinedBehaviorSanitizer (needs tools/setup.sh or tools/install-deps.sh first).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=ON
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" "$@"
