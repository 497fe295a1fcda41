#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: taskio_fuzz::stream_reader::FuzzInput| {
    taskio_fuzz::stream_reader::run(&input);
});
