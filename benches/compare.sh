#!/usr/bin/env bash
# Runs tokio's rt_multi_threaded, rt_current_thread, time_timeout and spawn_blocking
# workloads and the asyncio fan-out programs (benches/asyncio.rs) on taskio and tokio, the two
# rt_ suites on smol too (same criterion run, short settings), then prints one markdown table
# of medians and ratios.
# BENCHES="a b" picks a subset of the bench files.
#
#   bash benches/compare.sh                  # everything (~13 minutes on 2 cores today)
#   bash benches/compare.sh ping_pong        # extra args go to criterion (e.g. a filter)
#   BENCHES=asyncio bash benches/compare.sh  # only the asyncio programs (~2 minutes)
#
# Honours CARGO_TARGET_DIR (criterion writes to $CARGO_TARGET_DIR/criterion).
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TARGET_DIR="$target"

bench_args=()
for b in ${BENCHES:-rt_multi_threaded rt_current_thread time_timeout spawn_blocking asyncio}; do
    bench_args+=(--bench "$b")
done
cargo bench -p taskio-benches "${bench_args[@]}" -- \
    --warm-up-time 1 --measurement-time 3 --noplot "$@" >&2
cargo run -q --release -p taskio-benches --bin compare -- "$target/criterion"
