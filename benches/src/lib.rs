//! Shared helpers for taskio's benchmarks (see `benches/benches/`).
