//! taskio::Error: kinds, constructors, queries, groups, display, downcasting, sharing.
#![cfg(not(loom))]

use std::fmt;

use taskio::{Error, ErrorKind, ExceptionGroup, IncompleteRead, LimitOverrun, Result};

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
        (Error::value("v"), ErrorKind::Value),
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
    let payload = other.into_panic().unwrap();
    assert_eq!(payload.downcast_ref::<i32>(), Some(&42));
}

#[test]
fn into_panic_moves_the_payload_out_of_the_last_clone_only() {
    let err = Error::panic(Box::new(42_i32));
    let clones: Vec<Error> = (0..3).map(|_| err.clone()).collect();
    // Shared: each clone gets the message, none takes the payload from the others.
    for c in clones {
        let p = c.into_panic().unwrap();
        assert_eq!(
            p.downcast_ref::<String>().map(String::as_str),
            Some("Box<dyn Any>")
        );
    }
    assert_eq!(err.into_panic().unwrap().downcast_ref::<i32>(), Some(&42));

    // A shared `panic!("literal")` gives the same `&'static str`, a formatted one a String.
    let lit = Error::panic(std::panic::catch_unwind(|| panic!("literal")).unwrap_err());
    let p = lit.clone().into_panic().unwrap();
    assert_eq!(p.downcast_ref::<&str>(), Some(&"literal"));
    let n = 3;
    let fmt = Error::panic(std::panic::catch_unwind(|| panic!("n = {n}")).unwrap_err());
    let p = fmt.clone().into_panic().unwrap();
    assert_eq!(
        p.downcast_ref::<String>().map(String::as_str),
        Some("n = 3")
    );

    // Not a panic: the error comes back.
    assert!(Error::timeout().into_panic().unwrap_err().is_timeout());
}

#[test]
#[allow(deprecated)]
fn deprecated_take_panic_payload_still_works_and_into_panic_follows_it() {
    let err = Error::panic(Box::new(7_u8));
    let first = err.clone().take_panic_payload().unwrap();
    assert_eq!(first.downcast_ref::<u8>(), Some(&7));
    assert!(
        err.take_panic_payload().is_none(),
        "taken once, shared by clones"
    );
    // After it, the payload is gone: into_panic falls back to the message.
    let p = err.into_panic().unwrap();
    assert_eq!(
        p.downcast_ref::<String>().map(String::as_str),
        Some("Box<dyn Any>")
    );
}

/// Every awaiter of a panicked task can re-raise its panic: nobody steals the payload.
#[test]
fn every_awaiter_of_a_panicked_task_can_re_raise_it() {
    let (a, b) = taskio::run(async {
        let t: taskio::Task<u8> = taskio::create_task(async { panic!("in the child") });
        let (a, b) = (t.clone().await.unwrap_err(), t.await.unwrap_err());
        Ok((a, b))
    })
    .unwrap();
    for e in [a, b] {
        let payload = e.into_panic().unwrap();
        let p = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            std::panic::resume_unwind(payload)
        }))
        .unwrap_err();
        assert_eq!(p.downcast_ref::<&str>(), Some(&"in the child"));
    }
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
    let errors = &outer
        .downcast_ref::<taskio::ExceptionGroup>()
        .unwrap()
        .errors;
    assert!(errors[0].is_timeout());
    assert_eq!(
        errors[1]
            .downcast_ref::<taskio::ExceptionGroup>()
            .unwrap()
            .errors
            .len(),
        1
    );
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
    assert_eq!(
        err.downcast_ref::<IncompleteRead>(),
        Some(&IncompleteRead {
            partial: b"abc".to_vec(),
            expected: Some(10)
        })
    );
    assert_eq!(
        err.to_string(),
        "3 bytes read on a total of 10 expected bytes"
    );
    let err = Error::limit_overrun("Separator is not found, and chunk exceed the limit", 65537);
    let LimitOverrun { message, consumed } = err.downcast_ref::<LimitOverrun>().unwrap();
    assert_eq!(
        (message.as_str(), *consumed),
        (err.to_string().as_str(), 65537)
    );
    assert!(err.downcast_ref::<IncompleteRead>().is_none());
    assert!(err.downcast_ref::<ExceptionGroup>().is_none());
}

#[test]
fn payloads_convert_into_errors_of_their_kind() {
    fn raise<E: std::error::Error + Send + Sync + 'static>(e: E) -> Result<()> {
        Err(e)?;
        Ok(())
    }
    let e = raise(IncompleteRead {
        partial: vec![1],
        expected: None,
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::IncompleteRead);
    assert_eq!(e.downcast_ref::<IncompleteRead>().unwrap().partial, [1]);
    let e = raise(LimitOverrun {
        message: "over".into(),
        consumed: 9,
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitOverrun);
    assert_eq!(e.to_string(), "over");
    let e = raise(ExceptionGroup {
        message: "g".into(),
        errors: vec![Error::timeout()],
    })
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Group);
    assert_eq!(e.leaves().len(), 1);
    assert_eq!(e.to_string(), "g (1 sub-exception)");
}

#[test]
fn payloads_move_out_of_an_unshared_error() {
    let err = Error::incomplete_read(b"xyz".to_vec(), Some(4));
    let shared = err.clone();
    let err = err.downcast::<IncompleteRead>().unwrap_err(); // a clone is alive
    drop(shared);
    assert_eq!(err.downcast::<IncompleteRead>().unwrap().partial, b"xyz");
    let g = Error::group("g", vec![Error::msg("a"), Error::msg("b")]);
    let ExceptionGroup { message, errors } = g.downcast::<ExceptionGroup>().unwrap();
    assert_eq!((message.as_str(), errors.len()), ("g", 2));
    let l = Error::limit_overrun("l", 1);
    assert_eq!(l.downcast::<LimitOverrun>().unwrap().consumed, 1);
}

#[test]
fn a_group_payload_sources_its_first_error() {
    use std::error::Error as _;
    let g = Error::group("g", vec![Error::msg("first"), Error::msg("second")]);
    let payload = g.downcast_ref::<ExceptionGroup>().unwrap();
    assert_eq!(payload.source().unwrap().to_string(), "first");
    assert_eq!(g.source().unwrap().to_string(), "first");
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

/// Children whose error is not taskio's: `err_into()` converts it, for each API that takes a
/// child.
mod err_into_children {
    use taskio::{create_task, gather, ErrInto, Error, ErrorKind, ExceptionGroup, TaskGroup};

    use super::MyError;

    async fn io_child(fail: bool) -> std::io::Result<u8> {
        taskio::sleep(0).await.map_err(std::io::Error::from)?;
        if fail {
            return Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        }
        Ok(7)
    }

    async fn user_child() -> Result<(), MyError> {
        Err(MyError(3))
    }

    fn rt<T: Send + 'static>(
        body: impl std::future::Future<Output = taskio::Result<T>> + Send + 'static,
    ) -> T {
        taskio::Runner::builder()
            .current_thread()
            .build()
            .unwrap()
            .run(body)
            .unwrap()
    }

    #[test]
    fn create_task_takes_an_io_result_child() {
        rt(async {
            assert_eq!(create_task(io_child(false).err_into()).await?, 7);
            let err = create_task(io_child(true).err_into()).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io);
            let io = err.downcast_ref::<std::io::Error>().unwrap();
            assert_eq!(io.kind(), std::io::ErrorKind::ConnectionReset);
            Ok(())
        });
    }

    #[test]
    fn a_user_error_child_keeps_its_error() {
        rt(async {
            let err = create_task(user_child().err_into()).await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Other);
            assert_eq!(err.downcast_ref::<MyError>(), Some(&MyError(3)));
            Ok(())
        });
    }

    #[test]
    fn task_group_and_gather_take_converted_children() {
        rt(async {
            let err = TaskGroup::run(|tg| async move {
                tg.create_task(io_child(true).err_into())?;
                tg.create_task(user_child().err_into())?;
                Ok(())
            })
            .await
            .unwrap_err();
            let group = err.downcast_ref::<ExceptionGroup>().unwrap();
            let mut kinds: Vec<ErrorKind> = group.errors.iter().map(Error::kind).collect();
            kinds.sort_by_key(|k| format!("{k}"));
            assert_eq!(kinds, [ErrorKind::Io, ErrorKind::Other]);

            let all = gather([io_child(false).err_into(), io_child(false).err_into()]).await?;
            assert_eq!(all, [7, 7]);
            Ok(())
        });
    }

    #[test]
    fn a_converted_child_can_be_cancelled() {
        rt(async {
            let t = create_task(std::future::pending::<std::io::Result<()>>().err_into());
            taskio::sleep(0).await?;
            assert!(t.cancel(None));
            assert!(t.join().await.unwrap_err().is_cancelled());
            Ok(())
        });
    }
}
