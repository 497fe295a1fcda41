#!/usr/bin/env bash
# What the always-on observability of issue 14 costs on tokio's scheduler rows and the asyncio
# fan-out programs: the `profile` and `fanout` binaries built as shipped ("on") and with
# `--cfg taskio_unobserved` ("off": the per-poll writes, that is the watchdog's poll marks,
# the task's poll count and its awaiting word, compiled out), compared
#   - by instructions, with callgrind when valgrind is installed (the current-thread rows are
#     deterministic; the multi-thread ones vary by about 1 % with the schedule, so each is run
#     REPS times and the medians are compared), and
#   - by time: ROUNDS alternating runs of each build (on, off, on, off, ...), medians of the
#     per-iteration times that `profile` prints; the fan-out programs by time only, ROUNDS
#     alternating runs of `fanout` (each the median of 5 repetitions), medians of those.
# The opt-in features (`task_tree`, `task_poll_times`, the watchdog) are off in both builds.
#
#   bash benches/always_on_cost.sh               # both measures (~6 minutes on 2 cores)
#   MODE=time bash benches/always_on_cost.sh     # time only
#   MODE=instr bash benches/always_on_cost.sh    # instructions only
#
# Run it on an idle machine. Honours CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$PWD/target}"
mode="${MODE:-both}"
reps="${REPS:-3}"
rounds="${ROUNDS:-11}"

CARGO_TARGET_DIR="$target" cargo build -q --release -p taskio-benches --bin profile --bin fanout
CARGO_TARGET_DIR="$target/unobserved" RUSTFLAGS="${RUSTFLAGS:-} --cfg taskio_unobserved" \
    cargo build -q --release -p taskio-benches --bin profile --bin fanout
on="$target/release/profile"
off="$target/unobserved/release/profile"

# suite, workload, workers, iterations for the timed runs
rows=(
    "multi spawn_many_local 2 150"
    "multi spawn_many_remote_idle 2 200"
    "multi spawn_many_remote_busy1 2 250"
    "multi spawn_many_remote_busy2 2 400"
    "multi ping_pong 2 700"
    "multi yield_many 2 60"
    "multi chained_spawn 2 2000"
    "multi spawn_many_local 4 150"
    "multi spawn_many_remote_idle 4 200"
    "multi spawn_many_remote_busy1 4 250"
    "multi spawn_many_remote_busy2 4 400"
    "multi ping_pong 4 700"
    "multi yield_many 4 60"
    "multi chained_spawn 4 2000"
    "current spawn_many_local 1 2000"
    "current spawn_many_remote_idle 1 2000"
    "current spawn_many_remote_busy 1 2000"
    "current yield_many_single_task 1 2000"
)

median() { sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# `profile` prints "<name> xN: <duration> per iteration"; the duration in nanoseconds.
per_iter_ns() {
    "$@" 2>&1 >/dev/null | awk '/per iteration/ {
        d = $(NF-2)
        if (d ~ /ns$/) { sub(/ns$/, "", d); m = 1 }
        else if (d ~ /µs$/) { sub(/µs$/, "", d); m = 1e3 }
        else if (d ~ /ms$/) { sub(/ms$/, "", d); m = 1e6 }
        else { sub(/s$/, "", d); m = 1e9 }
        printf "%.0f\n", d * m
    }'
}

instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
        awk '/Collected/ {print $4}'
}

if [[ "$mode" != time ]] && ! command -v valgrind >/dev/null; then
    echo "valgrind not found: instructions skipped" >&2
    [[ "$mode" == instr ]] && exit 1
    mode=time
fi

printf '| row |'
[[ "$mode" != time ]] && printf ' instructions on / off |'
[[ "$mode" != instr ]] && printf ' time on | time off | on / off |'
printf '\n|---|'
[[ "$mode" != time ]] && printf -- '--:|'
[[ "$mode" != instr ]] && printf -- '--:|--:|--:|'
printf '\n'

for row in "${rows[@]}"; do
    read -r suite name workers iters <<<"$row"
    tag="ct"
    [[ "$suite" == multi ]] && tag="${workers}w"
    printf '| %s/%s |' "$name" "$tag"
    if [[ "$mode" != time ]]; then
        n=1
        [[ "$suite" == multi ]] && n="$reps"
        a=$(for _ in $(seq "$n"); do instructions "$on" "$suite" "$name" taskio "$workers" 10; done | median)
        b=$(for _ in $(seq "$n"); do instructions "$off" "$suite" "$name" taskio "$workers" 10; done | median)
        awk -v a="$a" -v b="$b" 'BEGIN { printf " %.3f |", a / b }'
    fi
    if [[ "$mode" != instr ]]; then
        ta=()
        tb=()
        for _ in $(seq "$rounds"); do
            ta+=("$(per_iter_ns "$on" "$suite" "$name" taskio "$workers" "$iters")")
            tb+=("$(per_iter_ns "$off" "$suite" "$name" taskio "$workers" "$iters")")
        done
        a=$(printf '%s\n' "${ta[@]}" | median)
        b=$(printf '%s\n' "${tb[@]}" | median)
        awk -v a="$a" -v b="$b" 'BEGIN { printf " %.1f µs | %.1f µs | %.3f |", a / 1e3, b / 1e3, a / b }'
    fi
    printf '\n'
done

programs=(gather_10k gather_100k taskgroup_10k queue_bounded queue_unbounded lock semaphore)
if [[ "$mode" != time ]]; then
    # One `fanout` process per program runs it on both schedulers (a warm-up and one
    # repetition each), so its instructions mix the two.
    printf '\n| fan-out program (both schedulers) | instructions on / off |\n|---|--:|\n'
    for prog in "${programs[@]}"; do
        a=$(instructions "$target/release/fanout" --no-python --reps 1 "$prog")
        b=$(instructions "$target/unobserved/release/fanout" --no-python --reps 1 "$prog")
        awk -v k="$prog" -v a="$a" -v b="$b" 'BEGIN { printf "| %s | %.3f |\n", k, a / b }'
    done
fi
[[ "$mode" == instr ]] && exit 0

# `fanout --no-python` prints "| program | — | <2 workers> | — | <current thread> | — |";
# each time as "<program> <column> <nanoseconds>".
fanout_ns() {
    "$1" --no-python --reps 5 2>/dev/null | awk -F'|' '
        function ns(v,   n, u) {
            split(v, a, " "); n = a[1]; u = a[2]
            if (u == "ns") return n; if (u == "µs") return n * 1e3
            if (u == "ms") return n * 1e6; return n * 1e9
        }
        $2 ~ /[a-z]/ && $2 !~ /program/ {
            gsub(/ /, "", $2)
            printf "%s 2w %.0f\n%s ct %.0f\n", $2, ns($4), $2, ns($6)
        }'
}

printf '\n| fan-out program | time on | time off | on / off |\n|---|--:|--:|--:|\n'
fa=$(mktemp)
fb=$(mktemp)
trap 'rm -f "$fa" "$fb"' EXIT
for _ in $(seq "$rounds"); do
    fanout_ns "$target/release/fanout" >>"$fa"
    fanout_ns "$target/unobserved/release/fanout" >>"$fb"
done
awk '{print $1 "/" $2}' "$fa" | awk '!seen[$0]++' | while read -r key; do
    prog="${key%/*}"
    col="${key#*/}"
    a=$(awk -v p="$prog" -v c="$col" '$1 == p && $2 == c {print $3}' "$fa" | median)
    b=$(awk -v p="$prog" -v c="$col" '$1 == p && $2 == c {print $3}' "$fb" | median)
    awk -v k="$key" -v a="$a" -v b="$b" \
        'BEGIN { printf "| %s | %.2f ms | %.2f ms | %.3f |\n", k, a / 1e6, b / 1e6, a / b }'
done
