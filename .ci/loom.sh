#!/usr/bin/env bash
# The loom models of every lock-free protocol, with a bounded number of preemptions.
# LOOM_MAX_PREEMPTIONS can be raised by hand for a deeper (much slower) search.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debug assertions stay on: the protocols state their invariants as debug_assert!, and a
# release loom build would skip every one of them.
export RUSTFLAGS="--cfg loom -C debug-assertions=on ${RUSTFLAGS:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom-da"

# Task state machine, timers, readiness: small models, searched deeper.
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" \
  cargo test -p taskio-runtime --release --lib -- loom --skip scheduler::loom_tests

# Whole schedulers (2 workers + outside threads): bounded at 2 preemptions to fit CI.
LOOM_MAX_PREEMPTIONS="${LOOM_SCHED_PREEMPTIONS:-2}" \
  cargo test -p taskio-runtime --release --lib -- scheduler::loom_tests

# The asyncio layer: its kernel (waiter lists, task completion, Watch), gather's tally,
# TaskGroup's scope (unit models, `-- loom`), and the primitives built on the waiter lists.
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" cargo test -p taskio --release --lib -- loom
LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-3}" cargo test -p taskio --release --test loom_primitives
