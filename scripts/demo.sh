#!/usr/bin/env bash
# Sets up a Debian 12 machine (see setup.sh) and runs RTCBot's offloading
# tutorial end to end: robot and desktop as two processes on 127.0.0.1,
# ending with a summary line. Extra arguments go to the demo command, for
# example: bash scripts/demo.sh -duration 1m
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec go run ./examples/offload/demo "$@"
