//! Small helpers shared by the examples (included with `#[path]`, not an example itself).

use std::time::Instant;

/// The examples' sleeps are the tutorials' times multiplied by this factor.
#[derive(Clone, Copy, Debug)]
pub struct Scale(pub f64);

impl Scale {
    /// `secs` tutorial seconds, scaled.
    pub fn secs(self, secs: f64) -> f64 {
        secs * self.0
    }

    /// A note for the output when the sleeps are shortened.
    pub fn note(self) -> String {
        if (self.0 - 1.0).abs() < f64::EPSILON {
            "sleeps as in the tutorial".to_owned()
        } else {
            format!(
                "sleeps are {} x the tutorial's: waiting longer shows nothing more",
                self.0
            )
        }
    }
}

/// Seconds since `start`, for the output.
pub fn since(start: Instant) -> String {
    format!("{:.2} s", start.elapsed().as_secs_f64())
}

/// The wall clock as asyncio's tutorials print it (`time.strftime('%X')`), UTC.
pub fn clock() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let s = now.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        now.subsec_millis()
    )
}
