#!/usr/bin/env bash
# Quick start, command 1: install what citytiler needs (Debian 12 packages and the
# npm validators), build it, and run the sample pipeline on data-samples/.
#   sudo tools/setup.sh          (or as root)
# Set CT_SETUP_SKIP_SAMPLE=1 to install and build only.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
tools/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCT_WITH_MPI=ON
cmake --build build -j"$(nproc)"
if [ "${CT_SETUP_SKIP_SAMPLE:-0}" != 1 ]; then
  ./build/citytiler run pipelines/sample.json
  echo
  echo "Tileset written to $here/out/sample/tileset.json"
  echo "View it:  node tools/viewer/serve.mjs out/sample   then open the URL it prints in a browser"
  echo "(or load tileset.json into any 3D Tiles 1.1 viewer, e.g. CesiumJS)."
fi
