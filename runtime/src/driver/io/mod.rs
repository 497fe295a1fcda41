//! The I/O reactor over `polling::Poller`. Filled in by the reactor work.
