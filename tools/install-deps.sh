#!/usr/bin/env bash
# Installs everything citytiler builds and tests with, on Debian 12 (root or sudo):
# compiler and CMake, GDAL, PROJ (+ proj-data), GEOS, Assimp, meshoptimizer, jansson, jemalloc,
# Node.js for the test-time validators, and the validators' npm packages.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
packages=(build-essential cmake pkg-config git
  libgdal-dev gdal-bin libproj-dev proj-data proj-bin libgeos-dev
  libassimp-dev libmeshoptimizer-dev libjansson-dev libjemalloc-dev
  clang
  chromium fonts-dejavu-core
  openmpi-bin libopenmpi-dev
  postgresql postgresql-15-postgis-3)
# Node.js: keep an installed one (e.g. a newer release); else Debian's.
if ! command -v npm > /dev/null 2>&1; then packages+=(nodejs npm); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
# Test-time validators (Khronos glTF validator, ajv for the 3D Tiles schema).
npm ci --prefix "$here/tools/validate" --no-audit --no-fund
# The CesiumJS viewer and its browser test (playwright-core drives Debian's chromium).
npm ci --prefix "$here/tools/viewer" --no-audit --no-fund
