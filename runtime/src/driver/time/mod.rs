//! Timers: a hierarchical wheel and the (pausable) clock. Filled in by the reactor work.
