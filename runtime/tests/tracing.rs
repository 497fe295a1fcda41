//! The `tracing` feature: a span per task (entered around each of its polls) and events for
//! spawn, completion and cancellation, seen by a subscriber that records them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Records every span's fields, the events' messages (with their span) and span entries.
#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, HashMap<String, String>>>,
    events: Mutex<Vec<(Option<u64>, String)>>,
    entered: Mutex<Vec<u64>>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

/// The subscriber: a handle to the shared recorder the test reads.
struct Rec(Arc<Recorder>);

impl Subscriber for Rec {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, SeqCst) + 1;
        let mut fields = HashMap::new();
        fields.insert("name".into(), span.metadata().name().into());
        span.record(&mut Fields(&mut fields));
        self.0.spans.lock().unwrap().insert(id, fields);
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let parent = event.parent().map(|p| p.into_u64());
        let msg = fields.remove("message").unwrap_or_default();
        self.0.events.lock().unwrap().push((parent, msg));
    }
    fn enter(&self, span: &Id) {
        self.0.entered.lock().unwrap().push(span.into_u64());
    }
    fn exit(&self, _: &Id) {}
}

#[test]
fn a_span_per_task_with_spawn_poll_cancel_and_completion() {
    let rec = Arc::new(Recorder::default());
    let _guard = tracing::subscriber::set_default(Rec(rec.clone()));
    let rt = taskio_runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (done_id, cancelled_id) = rt.block_on(async {
        let done = taskio_runtime::spawn(async { taskio_runtime::yield_now().await });
        let done_id = done.id();
        done.await.unwrap();
        let pending = taskio_runtime::spawn(std::future::pending::<()>());
        let cancelled_id = pending.id();
        pending.abort();
        let _ = pending.await;
        (done_id, cancelled_id)
    });
    let spans = rec.spans.lock().unwrap();
    let span_of = |task: taskio_runtime::task::Id| -> u64 {
        *spans
            .iter()
            .find(|(_, f)| f.get("task.id") == Some(&task.as_u64().to_string()))
            .unwrap_or_else(|| panic!("no span for task {task}"))
            .0
    };
    let done = span_of(done_id);
    let cancelled = span_of(cancelled_id);
    assert_eq!(spans[&done]["name"], "task");
    assert!(spans[&done]["spawned_at"].contains("tracing.rs"));
    let events = rec.events.lock().unwrap();
    let has = |span: u64, msg: &str| events.iter().any(|(p, m)| *p == Some(span) && m == msg);
    assert!(has(done, "spawned") && has(done, "completed"), "{events:?}");
    assert!(
        has(cancelled, "spawned") && has(cancelled, "aborted"),
        "{events:?}"
    );
    assert!(has(cancelled, "completed"), "an aborted task completes too");
    // Polled twice (it yields once): its span was entered twice.
    let entries = rec.entered.lock().unwrap();
    assert_eq!(entries.iter().filter(|s| **s == done).count(), 2);
}
