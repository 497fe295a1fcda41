#!/usr/bin/env bash
# Runs tokio's rt_multi_threaded and rt_current_thread workloads and the asyncio fan-out
# programs (benches/asyncio.rs) on taskio and tokio (same criterion run, short settings), then
# prints one markdown table of medians and ratios.
#
#   bash benches/compare.sh                  # everything (~11 minutes on 2 cores today)
#   bash benches/compare.sh ping_pong        # extra args go to criterion (e.g. a filter)
#   BENCHES=asyncio bash benches/compare.sh  # only the asyncio programs (~2 minutes)
#
# Honours CARGO_TARGET_DIR (criterion writes to $CARGO_TARGET_DIR/criterion).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"

bench_args=()
for b in ${BENCHES:-rt_multi_threaded rt_current_thread asyncio}; do
    bench_args+=(--bench "$b")
done
cargo bench -p taskio-benches "${bench_args[@]}" -- \
    --warm-up-time 1 --measurement-time 3 --noplot "$@" >&2
cargo run -q --release -p taskio-benches --bin compare -- "$target/criterion"
