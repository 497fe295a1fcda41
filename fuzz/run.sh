#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: ./fuzz/run.sh [seconds per target, default 60]
#
# Needs a nightly toolchain (cargo-fuzz builds with -Zsanitizer=address) and cargo-fuzz,
# which is installed if missing. Exits non-zero on the first crash; libFuzzer writes the
# input to fuzz/artifacts/<target>/, and `cargo +nightly fuzz run <target> <file>` replays it.
set -euo pipefail

secs="${1:-60}"
cd "$(dirname "$0")"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cargo +nightly fuzz build
for target in $(cargo +nightly fuzz list); do
    echo "== fuzz target ${target}: ${secs}s"
    mkdir -p "corpus/${target}"
    log="$(mktemp)"
    status=0
    cargo +nightly fuzz run "${target}" "corpus/${target}" -- \
        -max_total_time="${secs}" -print_final_stats=1 >"${log}" 2>&1 || status=$?
    # libFuzzer's chatter stays in the log; show the totals and any failure.
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done )' "${log}" || true
    if [ "${status}" -ne 0 ]; then
        tail -n 60 "${log}" >&2
        echo "fuzz target ${target} failed (exit ${status}); see fuzz/artifacts/${target}/" >&2
        rm -f "${log}"
        exit 1
    fi
    rm -f "${log}"
done
