#!/bin/sh
# Builds k6 into .bench-data/bin at the repository root (project-local and git-ignored, no global
# install) with `go install go.k6.io/k6@latest`, once; prints its path.
set -eu
bin="$(cd "$(dirname "$0")/../../.." && pwd)/.bench-data/bin"
if [ -x "$bin/k6" ]; then echo "$bin/k6"; exit 0; fi
command -v go >/dev/null || { echo "go is needed to build k6 (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$bin"
GOBIN="$bin" nice go install go.k6.io/k6@latest
echo "$bin/k6"
