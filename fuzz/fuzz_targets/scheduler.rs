#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: taskio_fuzz::scheduler::silence_expected_panics(),
    |ops: Vec<taskio_fuzz::scheduler::FuzzOp>| {
        taskio_fuzz::scheduler::run(&ops);
    }
);
