#!/usr/bin/env bash
# Quick start, command 2: the whole test suite, built with AddressSanitizer and
# UndefinedBehaviorSanitizer (needs tools/setup.sh or tools/install-deps.sh first); then
# a Release build of the command must write the same bytes (tools/release_check.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mpi=OFF
if command -v mpicc > /dev/null 2>&1 && command -v mpirun > /dev/null 2>&1; then mpi=ON; fi
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCT_SANITIZE=ON -DCT_WITH_MPI=$mpi
cmake --build build-asan -j"$(nproc)"
ctest --test-dir build-asan --output-on-failure -j"$(nproc)" "$@"
cmake -S . -B build-release-check -DCMAKE_BUILD_TYPE=Release -DCT_WITH_MPI=$mpi -DBUILD_TESTING=OFF
cmake --build build-release-check -j"$(nproc)" --target citytiler synthcity
tools/release_check.sh build-asan build-release-check
