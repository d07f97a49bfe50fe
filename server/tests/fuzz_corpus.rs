//! Replays every input the fuzzers saved (`server/fuzz/corpus/<target>/`: seeds, what a run
//! found interesting, and the inputs of crashes since fixed) through the same entry points,
//! on the pinned toolchain, as ordinary tests.

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    inputs.sort();
    inputs
}

#[test]
fn every_saved_input_of_every_target_is_answered_without_a_panic() {
    for (target, run) in server::fuzzing::TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "{target} has no corpus");
        for (path, bytes) in inputs {
            let outcome = std::panic::catch_unwind(|| run(&bytes));
            assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        }
    }
}

#[test]
fn the_seeds_reach_past_the_signature_checks_and_parsers() {
    // A correctly signed provider event and a meter reading are read, not refused: the seeds
    // lead the fuzzer into the parsers, not only to the first rejection.
    use server::fleet::wire::Uplink;
    let reading = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/telemetry/reading"),
    )
    .unwrap();
    assert!(Uplink::parse("reading", &reading[1..]).is_ok());
    let tariff = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/tariff/time-of-use"),
    )
    .unwrap();
    let tariff: app::domain::tariff::Tariff = serde_json::from_slice(&tariff).unwrap();
    assert!(tariff.check().is_ok());
}
