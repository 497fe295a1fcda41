#!/usr/bin/env bash
# The asyncio fan-out programs on CPython's asyncio (benches/python/fanout.py) and on taskio
# (the `fanout` binary: same programs, std::time::Instant, median of N repetitions); prints
# one markdown table: program | CPython asyncio | taskio | speedup.
#
#   bash benches/python/compare.sh                 # every program, 9 repetitions
#   bash benches/python/compare.sh --reps 5 lock   # extra args go to the `fanout` binary
#
# Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo run -q --release -p taskio-benches --bin fanout -- "$@"
