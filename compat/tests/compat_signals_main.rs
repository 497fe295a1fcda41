//! `run` / `Runner::run` and Ctrl-C (asyncio 3.11+; `runners` module docs), on the main
//! thread: the runner only handles SIGINT there, so this test is its own `main`
//! (`harness = false` in Cargo.toml) and runs its cases one after the other. The case that
//! must end the process runs in a child process: this same binary, re-executed with
//! `TASKIO_SIGNALS_CHILD` set.

// No signals under loom (see `taskio::signals`).
#[cfg(any(not(unix), loom))]
fn main() {}

#[cfg(all(unix, not(loom)))]
fn main() {
    unix::main();
}

#[cfg(all(unix, not(loom)))]
mod unix {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use taskio::signals::has_default_handler;
    use taskio::{add_signal_handler, remove_signal_handler, ErrorKind, Event, SignalKind};

    const CHILD: &str = "TASKIO_SIGNALS_CHILD";

    fn raise_sigint() {
        // SAFETY: `kill` has no memory-safety preconditions. Every caller runs while a
        // listener of SIGINT exists (the runner's, or one the case holds), or wants the
        // default action (the child case).
        let r = unsafe { libc::kill(libc::getpid(), libc::SIGINT) };
        assert_eq!(r, 0);
    }

    fn sigint_is_default() -> bool {
        has_default_handler(SignalKind::interrupt()).unwrap()
    }

    pub fn main() {
        if let Ok(case) = std::env::var(CHILD) {
            child(&case);
            return;
        }
        assert_eq!(std::thread::current().name(), Some("main"));
        // A shell without job control starts background commands with SIGINT ignored, and
        // the disposition is inherited: the cases start from the default.
        // SAFETY: setting a disposition has no memory-safety preconditions; no listener
        // exists yet.
        unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };
        let cases: [(&str, fn()); 5] = [
            (
                "first_sigint_cancels_main_and_run_returns_keyboard_interrupt",
                first_sigint_cancels_main_and_run_returns_keyboard_interrupt,
            ),
            (
                "runner_run_twice_each_interrupted_once",
                runner_run_twice_each_interrupted_once,
            ),
            (
                "main_that_returns_is_unaffected",
                main_that_returns_is_unaffected,
            ),
            (
                "a_program_handler_for_sigint_disables_the_runners",
                a_program_handler_for_sigint_disables_the_runners,
            ),
            (
                "second_sigint_ends_the_process_with_the_default_action",
                second_sigint_ends_the_process_with_the_default_action,
            ),
        ];
        println!("\nrunning {} tests", cases.len());
        for (name, case) in cases {
            case();
            assert!(sigint_is_default(), "{name}: SIGINT's default is back");
            println!("test {name} ... ok");
        }
        println!(
            "\ntest result: ok. {} passed; 0 failed; 0 ignored; 0 measured; 0 filtered out\n",
            cases.len()
        );
    }

    fn first_sigint_cancels_main_and_run_returns_keyboard_interrupt() {
        assert!(sigint_is_default());
        let err = taskio::run(async {
            assert!(!sigint_is_default(), "the runner listens");
            raise_sigint();
            taskio::sleep(60).await?; // cancelled here
            Ok(())
        })
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeyboardInterrupt);
    }

    fn runner_run_twice_each_interrupted_once() {
        let runner = taskio::Runner::builder().current_thread().build().unwrap();
        for _ in 0..2 {
            let err = runner
                .run(async {
                    raise_sigint();
                    std::future::pending::<taskio::Result<()>>().await
                })
                .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::KeyboardInterrupt);
            assert!(sigint_is_default());
        }
        assert_eq!(runner.run(async { Ok(3) }).unwrap(), 3);
        runner.close();
    }

    fn main_that_returns_is_unaffected() {
        assert_eq!(taskio::run(async { Ok(5) }).unwrap(), 5);
        // A main that fails with its own error keeps it.
        let err = taskio::run(async { Err::<(), _>(taskio::Error::runtime("own")) }).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Runtime);
    }

    fn a_program_handler_for_sigint_disables_the_runners() {
        // SIGINT ignored by the program: not the default, so the runner installs nothing.
        // SAFETY: setting a disposition has no memory-safety preconditions.
        unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
        let v = taskio::run(async {
            raise_sigint(); // ignored
            taskio::sleep(0.05).await?;
            Ok(1)
        })
        .unwrap();
        assert_eq!(v, 1);
        // SAFETY: as above.
        unsafe { libc::signal(libc::SIGINT, libc::SIG_DFL) };

        // A handler the program adds while main runs takes SIGINT from the runner.
        let v = taskio::run(async {
            let got = Arc::new(Event::new());
            let g = got.clone();
            add_signal_handler(SignalKind::interrupt(), move || g.set())?;
            raise_sigint();
            got.wait().await.unwrap();
            taskio::sleep(0.05).await?; // the runner's watcher saw it too, and let it be
            assert!(remove_signal_handler(SignalKind::interrupt()));
            Ok(2)
        })
        .unwrap();
        assert_eq!(v, 2);
    }

    fn second_sigint_ends_the_process_with_the_default_action() {
        let start = Instant::now();
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CHILD, "second_sigint")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGINT),
            "the child ended by SIGINT's default action (status {:?}, stdout {stdout:?}, stderr {:?})",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("first: KeyboardInterrupt"), "{stdout:?}");
        assert!(start.elapsed() < Duration::from_secs(8), "ended at once");
    }

    /// The child: a first SIGINT cancels main (`run` returns KeyboardInterrupt), a second
    /// one, half a second later from a thread of its own, ends the process.
    fn child(case: &str) {
        assert_eq!(case, "second_sigint");
        let runner = taskio::Runner::new().unwrap();
        let err = runner
            .run(async {
                std::thread::spawn(|| {
                    raise_sigint();
                    std::thread::sleep(Duration::from_millis(500));
                    raise_sigint();
                });
                std::future::pending::<taskio::Result<()>>().await
            })
            .unwrap_err();
        println!("first: {:?}", err.kind());
        std::thread::sleep(Duration::from_secs(10));
        println!("still alive: the second SIGINT did not end the process");
        std::process::exit(1);
    }
}
