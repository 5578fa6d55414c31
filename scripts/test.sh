#!/usr/bin/env bash
# The test command: installs what is missing (Debian packages, MNIST), builds, and runs
# every test with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-deps.sh
scripts/build.sh
scripts/get-mnist.sh
cd build
ctest --output-on-failure --timeout 900 "$@"
