//! taskio::Error: kinds, constructors, queries, groups, display, downcasting, sharing.
#![cfg(not(loom))]

use std::fmt;

use taskio::{Error, ErrorKind, Result};

#[derive(Debug, PartialEq)]
struct MyError(u32);

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "my error {}", self.0)
    }
}

impl std::error::Error for MyError {}

#[derive(Debug)]
struct Outer(MyError);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("outer failed")
    }
}

impl std::error::Error for Outer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

fn _assert_send_sync_static() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Error>();
}

#[test]
fn question_mark_converts_user_errors() {
    fn f() -> Result<u32> {
        Err(MyError(3))?
    }
    let err = f().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(err.to_string(), "my error 3");
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(3)));
    assert!(err.downcast_ref::<std::fmt::Error>().is_none());
}

#[test]
fn question_mark_passes_taskio_errors_through_unchanged() {
    fn inner() -> Result<()> {
        Err(Error::timeout())
    }
    fn outer() -> Result<()> {
        inner()?;
        Ok(())
    }
    assert!(outer().unwrap_err().is_timeout());
}

#[test]
fn io_errors_are_io_kind() {
    let err: Error = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset").into();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert_eq!(err.to_string(), "reset");
    let io = err.downcast::<std::io::Error>().unwrap();
    assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
}

#[test]
fn every_constructor_has_its_kind() {
    let cases = [
        (Error::cancelled(None), ErrorKind::Cancelled),
        (Error::timeout(), ErrorKind::Timeout),
        (Error::panic(Box::new("p")), ErrorKind::Panic),
        (Error::group("g", vec![]), ErrorKind::Group),
        (Error::invalid_state("s"), ErrorKind::InvalidState),
        (Error::queue_empty(), ErrorKind::QueueEmpty),
        (Error::queue_full(), ErrorKind::QueueFull),
        (Error::queue_shut_down(), ErrorKind::QueueShutDown),
        (Error::broken_barrier(), ErrorKind::BrokenBarrier),
        (Error::limit_overrun("l", 1), ErrorKind::LimitOverrun),
        (
            Error::incomplete_read(vec![], None),
            ErrorKind::IncompleteRead,
        ),
        (Error::runtime("r"), ErrorKind::Runtime),
        (Error::new(std::io::Error::other("io")), ErrorKind::Io),
        (Error::msg("m"), ErrorKind::Other),
    ];
    for (err, kind) in cases {
        assert_eq!(err.kind(), kind, "{err:?}");
    }
}

#[test]
fn cancelled_carries_its_message() {
    let err = Error::cancelled(Some("stop".into()));
    assert!(err.is_cancelled());
    assert_eq!(err.cancel_message(), Some("stop"));
    assert_eq!(err.to_string(), "Cancelled: stop");
    assert_eq!(Error::cancelled(None).to_string(), "Cancelled");
    assert_eq!(Error::timeout().cancel_message(), None);
}

#[test]
fn panic_message_comes_from_str_and_string_payloads() {
    let s = std::panic::catch_unwind(|| panic!("static str")).unwrap_err();
    assert_eq!(Error::panic(s).panic_message(), Some("static str"));
    let n = 4;
    let s = std::panic::catch_unwind(|| panic!("formatted {n}")).unwrap_err();
    let err = Error::panic(s);
    assert_eq!(err.panic_message(), Some("formatted 4"));
    assert_eq!(err.to_string(), "task panicked: formatted 4");
    let other = Error::panic(Box::new(42_i32));
    assert!(other.is_panic());
    assert_eq!(other.panic_message(), Some("Box<dyn Any>"));
    let payload = other.clone().take_panic_payload().unwrap();
    assert_eq!(payload.downcast_ref::<i32>(), Some(&42));
    assert!(
        other.take_panic_payload().is_none(),
        "taken once, shared by clones"
    );
}

#[test]
fn groups_nest_and_display_as_a_tree() {
    let inner = Error::group("unhandled errors in a TaskGroup", vec![Error::msg("boom")]);
    let outer = Error::group(
        "unhandled errors in a TaskGroup",
        vec![Error::timeout(), inner],
    );
    assert_eq!(
        outer.to_string(),
        "unhandled errors in a TaskGroup (2 sub-exceptions)"
    );
    let tree = format!("{outer:#}");
    assert_eq!(
        tree,
        "unhandled errors in a TaskGroup (2 sub-exceptions)\n  \
         1: Timeout\n  \
         2: unhandled errors in a TaskGroup (1 sub-exception)\n    \
         1: boom"
    );
    let debug = format!("{outer:?}");
    assert!(
        debug.starts_with("Error(Group): unhandled errors"),
        "{debug}"
    );
    assert!(debug.contains("1: boom"), "{debug}");
    let errors = outer.group_errors().unwrap();
    assert!(errors[0].is_timeout());
    assert_eq!(errors[1].group_errors().unwrap().len(), 1);
    assert_eq!(outer.leaves().len(), 2);
}

#[test]
fn split_keeps_structure() {
    let g = Error::group(
        "outer",
        vec![
            Error::timeout(),
            Error::group("inner", vec![Error::timeout(), Error::msg("x")]),
        ],
    );
    let (timeouts, rest) = g.split(|e| e.is_timeout());
    let timeouts = timeouts.unwrap();
    assert_eq!(timeouts.leaves().len(), 2);
    assert!(timeouts.leaves().iter().all(|e| e.is_timeout()));
    assert_eq!(format!("{timeouts:#}").matches("inner").count(), 1);
    let rest = rest.unwrap();
    assert_eq!(rest.leaves().len(), 1);
    assert_eq!(rest.leaves()[0].to_string(), "x");
    let (all, none) = g.split(|_| true);
    assert!(all.unwrap().ptr_eq(&g), "nothing split off: the same group");
    assert!(none.is_none());
    let (m, r) = Error::timeout().split(|e| e.is_timeout());
    assert!(m.is_some() && r.is_none());
}

#[test]
fn stream_errors_expose_their_fields() {
    let err = Error::incomplete_read(b"abc".to_vec(), Some(10));
    assert_eq!(err.partial(), Some(&b"abc"[..]));
    assert_eq!(err.expected(), Some(10));
    assert_eq!(
        err.to_string(),
        "3 bytes read on a total of 10 expected bytes"
    );
    let err = Error::limit_overrun("Separator is not found, and chunk exceed the limit", 65537);
    assert_eq!(err.consumed(), Some(65537));
    assert_eq!(err.partial(), None);
}

#[test]
fn clones_share_the_same_error() {
    let err = Error::new(MyError(1));
    let clone = err.clone();
    assert!(err.ptr_eq(&clone));
    // Shared: the user error cannot be moved out while a clone lives.
    let err = err.downcast::<MyError>().unwrap_err();
    assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(1)));
    drop(clone);
    assert_eq!(err.downcast::<MyError>().unwrap(), MyError(1));
}

#[test]
fn derefs_to_a_std_error_with_sources() {
    let err = Error::new(Outer(MyError(9)));
    let std_err: &(dyn std::error::Error + Send + Sync) = &*err;
    assert_eq!(std_err.to_string(), "outer failed");
    assert_eq!(std_err.source().unwrap().to_string(), "my error 9");
    let debug = format!("{err:?}");
    assert!(debug.contains("caused by: my error 9"), "{debug}");
    let boxed: Box<dyn std::error::Error + Send + Sync> = err.into();
    assert_eq!(boxed.to_string(), "outer failed");
}

#[test]
fn error_kind_displays_its_name() {
    assert_eq!(ErrorKind::BrokenBarrier.to_string(), "BrokenBarrier");
    assert_eq!(Error::queue_empty().to_string(), "QueueEmpty");
    assert_eq!(Error::broken_barrier().to_string(), "BrokenBarrierError");
}

#[test]
fn errors_cross_threads() {
    let err = Error::group("g", vec![Error::new(MyError(2)), Error::timeout()]);
    let clone = err.clone();
    let seen = std::thread::spawn(move || clone.leaves().len())
        .join()
        .unwrap();
    assert_eq!(seen, 2);
}

#[test]
fn converts_into_io_errors() {
    let io: std::io::Error = Error::incomplete_read(vec![1], Some(4)).into();
    assert_eq!(io.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(
        io.to_string(),
        "1 bytes read on a total of 4 expected bytes"
    );
    let io: std::io::Error = Error::cancelled(None).into();
    assert_eq!(io.kind(), std::io::ErrorKind::Interrupted);
    let io: std::io::Error = Error::new(MyError(5)).into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    assert_eq!(io.to_string(), "my error 5");
    // A shared io error keeps its kind and message.
    let err = Error::from(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
    let keep = err.clone();
    let io: std::io::Error = err.into();
    assert_eq!(
        (io.kind(), io.to_string()),
        (std::io::ErrorKind::NotFound, "gone".into())
    );
    drop(keep);
}
