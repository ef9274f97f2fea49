//! Tests of the service-oriented API: cancel tokens, contexts, load options, and concurrent
//! prunes on separate threads (run by tools/ci/suite_rust.sh: `cargo test --offline`).
use gisp::{
    Calibration, CancelToken, Code, Context, LoadOptions, LogLevel, Model, PruneConfig, Pruner,
    Record,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

#[allow(dead_code)]
#[path = "../examples/two_threads.rs"]
mod two_threads;

use two_threads::{tiny, JOBS};

fn load_tiny(ctx: &Context) -> Model {
    let options = LoadOptions::new().unwrap().context(ctx).unwrap();
    Model::load_with_options(tiny().0, &options).unwrap()
}

#[test]
fn two_threads_give_the_records_of_a_sequential_run() {
    let (model_dir, calib) = tiny();
    let parallel = two_threads::run_parallel(&JOBS, &model_dir, &calib).unwrap();
    let sequential = two_threads::run_sequential(&JOBS, &model_dir, &calib).unwrap();
    assert_eq!(parallel.len(), 2);
    // The two configurations differ, so the comparison below cannot pass by accident.
    assert_ne!(parallel[0], parallel[1]);
    for (i, (p, s)) in parallel.iter().zip(&sequential).enumerate() {
        assert!(!p.is_empty());
        assert!(p == s, "job {i}: the record of the threaded run differs");
        assert!(Record::from_bytes(p).unwrap().complete());
    }
}

#[test]
fn cancel_token_is_shared_by_clones_and_threads() {
    let token = CancelToken::new().unwrap();
    assert!(!token.is_cancelled());
    let other = token.clone();
    std::thread::spawn(move || other.cancel()).join().unwrap();
    assert!(token.is_cancelled());
    token.cancel(); // repeatable
    assert!(token.is_cancelled());
    token.reset();
    assert!(!token.is_cancelled());
    fn send_sync<T: Send + Sync>() {}
    send_sync::<CancelToken>();
    send_sync::<Context>();
    send_sync::<Record>();
}

#[test]
fn context_settings_are_validated() {
    let ctx = Context::new().unwrap().num_threads(1).unwrap();
    assert_eq!(ctx.threads(), 1);
    let ctx = ctx.num_threads(0).unwrap(); // back to the default
    assert_eq!(ctx.threads(), gisp::default_num_threads());
    assert!(gisp::default_num_threads() >= 1);
    let err = Context::new().unwrap().num_threads(-1).err().unwrap();
    assert_eq!(err.code, Code::InvalidArgument);
    let err = Context::new().unwrap().memory_budget(-1).err().unwrap();
    assert_eq!(err.code, Code::InvalidArgument);
    Context::new().unwrap().memory_budget(0).unwrap();
    assert_eq!(Code::InvalidArgument.name(), "invalid_argument");
    assert_eq!(Code::Cancelled.name(), "cancelled");
}

/// A token raised from another thread while the pruner is inside step 1 stops the run with
/// Cancelled; the record keeps step 0 and is valid; after a reset the same pruner finishes
/// with the record of an uninterrupted run.
#[test]
fn cancel_a_running_prune_from_another_thread() {
    let config = || {
        PruneConfig::new()
            .unwrap()
            .ratio(0.5)
            .unwrap()
            .steps(4)
            .unwrap()
            .batch_size(2)
            .unwrap()
    };
    let (_, calib) = tiny();
    let token = CancelToken::new().unwrap();
    let ctx = Context::new()
        .unwrap()
        .num_threads(1)
        .unwrap()
        .cancel_token(&token)
        .unwrap();
    let uninterrupted = {
        let mut model = load_tiny(&Context::new().unwrap().num_threads(1).unwrap());
        let data = Calibration::text_windows(&mut model, &calib, 64, 8, 0).unwrap();
        let mut pruner = Pruner::new(&mut model, &data, &config(), None).unwrap();
        pruner.run().unwrap();
        pruner.record().unwrap().to_bytes().unwrap()
    };

    let mut model = load_tiny(&ctx);
    let data = Calibration::text_windows(&mut model, &calib, 64, 8, 0).unwrap();
    let mut pruner = Pruner::new(&mut model, &data, &config(), None).unwrap();
    let (to_canceller, requests) = mpsc::channel::<()>();
    let (to_pruner, acks) = mpsc::channel::<()>();
    let canceller = {
        let token = token.clone();
        std::thread::spawn(move || {
            if requests.recv().is_ok() {
                token.cancel();
                let _ = to_pruner.send(());
            }
        })
    };
    let mut asked = false;
    let mut batches_after_cancel = 0;
    let err = pruner
        .run_with(|p| {
            if asked {
                batches_after_cancel += 1;
            } else if p.step == 1 && p.batch == 1 && p.batch < p.batches {
                // Inside step 1 with batches to go: have the other thread raise the token.
                asked = true;
                to_canceller.send(()).unwrap();
                acks.recv().unwrap();
            }
            true // never cancel from here: the token must do it
        })
        .expect_err("the run was not cancelled");
    canceller.join().unwrap();
    assert!(asked, "the run never reached step 1 batch 1");
    assert_eq!(err.code, Code::Cancelled, "{err}");
    assert!(
        batches_after_cancel <= 1,
        "{batches_after_cancel} batches ran after the cancel"
    );
    let partial = pruner.record().unwrap();
    assert_eq!(partial.num_steps(), 1);
    assert!(!partial.complete());
    assert_eq!(partial.step_sparsity().unwrap().len(), 1);
    let copy = Record::from_bytes(&partial.to_bytes().unwrap()).unwrap();
    assert_eq!(copy.num_steps(), 1);
    assert_eq!(copy.num_units(), pruner.num_units());

    // Still raised: the next call stops at once, losing nothing.
    assert_eq!(pruner.run().unwrap_err().code, Code::Cancelled);
    assert_eq!(pruner.record().unwrap().num_steps(), 1);
    token.reset();
    pruner.run().unwrap();
    assert!(pruner.done());
    assert_eq!(pruner.record().unwrap().to_bytes().unwrap(), uninterrupted);
}

#[test]
fn load_progress_is_reported_and_can_cancel() {
    let (model_dir, _) = tiny();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    let options = LoadOptions::new()
        .unwrap()
        .progress(move |done, total| {
            seen.lock().unwrap().push((done, total));
            true
        })
        .unwrap();
    let model = Model::load_with_options(&model_dir, &options).unwrap();
    let layers = model.num_layers();
    let expected: Vec<(i64, i64)> = (1..=layers).map(|d| (d, layers)).collect();
    assert_eq!(*calls.lock().unwrap(), expected);
    // The same options load again, calling the same closure.
    drop(Model::load_with_options(&model_dir, &options).unwrap());
    assert_eq!(calls.lock().unwrap().len() as i64, 2 * layers);

    let count = Arc::new(AtomicUsize::new(0));
    let n = count.clone();
    let options = LoadOptions::new()
        .unwrap()
        .progress(move |done, _| {
            n.fetch_add(1, Ordering::SeqCst);
            done < 2
        })
        .unwrap();
    let err =
        Model::load_with_options(&model_dir, &options).expect_err("the load was not cancelled");
    assert_eq!(err.code, Code::Cancelled, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    // A panicking closure cancels the load instead of unwinding through C.
    let options = LoadOptions::new()
        .unwrap()
        .progress(|_, _| panic!("progress failure"))
        .unwrap();
    let err = Model::load_with_options(&model_dir, &options)
        .err()
        .unwrap();
    assert_eq!(err.code, Code::Cancelled);

    // The CPU backend keeps f32 weights: a 16-bit working copy is refused, F32 and Auto load.
    let options = LoadOptions::new()
        .unwrap()
        .device(gisp::Device::Cpu)
        .unwrap()
        .working_dtype(gisp::DType::BF16)
        .unwrap();
    let err = Model::load_with_options(&model_dir, &options).unwrap_err();
    assert_eq!(err.code, Code::Unimplemented, "{err}");
    for dtype in [gisp::DType::F32, gisp::DType::Auto] {
        let options = LoadOptions::new().unwrap().working_dtype(dtype).unwrap();
        Model::load_with_options(&model_dir, &options).unwrap();
    }

    // A raised token in the context cancels the load too.
    let token = CancelToken::new().unwrap();
    token.cancel();
    let ctx = Context::new().unwrap().cancel_token(&token).unwrap();
    let options = LoadOptions::new().unwrap().context(&ctx).unwrap();
    let err = Model::load_with_options(&model_dir, &options)
        .err()
        .unwrap();
    assert_eq!(err.code, Code::Cancelled);
    token.reset();
    Model::load_with_options(&model_dir, &options).unwrap();
}

#[test]
fn context_log_callback_outlives_the_context() {
    let messages = Arc::new(Mutex::new(Vec::<(LogLevel, String)>::new()));
    let sink = messages.clone();
    let ctx = Context::new()
        .unwrap()
        .num_threads(1)
        .unwrap()
        .log_callback(LogLevel::Info, move |level, msg| {
            sink.lock().unwrap().push((level, msg.to_string()))
        })
        .unwrap();
    let mut model = load_tiny(&ctx);
    drop(ctx); // the model keeps the closure alive
    assert!(
        messages
            .lock()
            .unwrap()
            .iter()
            .any(|(l, _)| *l >= LogLevel::Info),
        "no message from the load: {:?}",
        messages.lock().unwrap()
    );
    let (_, calib) = tiny();
    let data = Calibration::text_windows(&mut model, &calib, 64, 4, 0).unwrap();
    let config = PruneConfig::new().unwrap().steps(1).unwrap();
    let before = messages.lock().unwrap().len();
    Pruner::new(&mut model, &data, &config, None)
        .unwrap()
        .run()
        .unwrap();
    let all = messages.lock().unwrap();
    assert!(all.len() > before, "the pruner logged nothing: {all:?}");
    assert!(all.iter().all(|(l, _)| *l >= LogLevel::Info));
    // The step message reports the thread budget of the context.
    assert!(
        all[before..].iter().any(|(_, m)| m.contains(" 1 threads")),
        "{all:?}"
    );
}

#[test]
fn set_context_replaces_the_models_settings() {
    let mut model = Model::load(tiny().0, gisp::Device::Cpu).unwrap();
    let (_, calib) = tiny();
    let token = CancelToken::new().unwrap();
    token.cancel();
    let ctx = Context::new().unwrap().cancel_token(&token).unwrap();
    model.set_context(Some(&ctx)).unwrap();
    drop(ctx);
    let err = Calibration::text_windows(&mut model, &calib, 64, 4, 0)
        .expect_err("calibration under a raised token was not cancelled");
    assert_eq!(err.code, Code::Cancelled);
    model.set_context(None).unwrap();
    assert_eq!(
        Calibration::text_windows(&mut model, &calib, 64, 4, 0)
            .unwrap()
            .len(),
        4
    );
}

#[test]
fn memory_budget_too_small_is_refused() {
    let ctx = Context::new().unwrap().memory_budget(1).unwrap();
    let mut model = load_tiny(&ctx);
    let (_, calib) = tiny();
    let data = Calibration::text_windows(&mut model, &calib, 64, 4, 0).unwrap();
    let config = PruneConfig::new().unwrap().steps(1).unwrap();
    let err = Pruner::new(&mut model, &data, &config, None)
        .and_then(|mut p| p.run())
        .expect_err("a 1-byte budget was accepted");
    assert_eq!(err.code, Code::ResourceExhausted, "{err}");
}

#[test]
fn model_tokens_are_checked_against_the_model() {
    let mut model = Model::load(tiny().0, gisp::Device::Cpu).unwrap();
    let vocab = model.vocab_size() as i32;
    let ids = model
        .tokenize("In the beginning God created", true)
        .unwrap();
    assert!(ids.len() > 2 && ids.iter().all(|&t| t >= 0 && t < vocab));
    assert!(model.tokenize("", false).unwrap().is_empty());
    let good = vec![ids.clone(), ids.iter().rev().copied().collect()];
    let data = Calibration::from_model_tokens(&mut model, &good, None, None).unwrap();
    assert_eq!(data.len(), 2);

    let bad = vec![ids.clone(), vec![1, vocab, 2]];
    let err = Calibration::from_model_tokens(&mut model, &bad, None, None)
        .err()
        .unwrap();
    assert_eq!(err.code, Code::InvalidArgument);
    // The error names the sequence and the position.
    assert!(
        err.message.contains("sequence 1") && err.message.contains("position 1"),
        "{}",
        err.message
    );
    // The unchecked form accepts the same ids.
    Calibration::from_tokens(&bad, None, None).unwrap();

    let too_long = vec![vec![1; model.max_positions() as usize + 1]];
    let err = Calibration::from_model_tokens(&mut model, &too_long, None, None)
        .err()
        .unwrap();
    assert_eq!(err.code, Code::InvalidArgument);

    let config = PruneConfig::new().unwrap().steps(1).unwrap();
    let per_layer = model.num_heads() + model.intermediate_size();
    let units = model.num_layers() * per_layer;
    let mut pruner = Pruner::new(&mut model, &data, &config, None).unwrap();
    // Known before the first step (the record has no units until then).
    assert_eq!(pruner.num_units(), units);
    pruner.step().unwrap();
    assert_eq!(pruner.record().unwrap().num_units(), units);
    assert_eq!(pruner.scores().unwrap().len() as i64, units);
}
