//! The process-wide log callback (gisp_set_log_callback), in a test binary of its own so that no
//! other test's calls log into it.
use gisp::{Context, LoadOptions, LogLevel, Model};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

fn tiny_model() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/tiny/model")
}

type Messages = Arc<Mutex<Vec<(LogLevel, String)>>>;

fn collector() -> (Messages, impl Fn(LogLevel, &str) + Send + Sync + 'static) {
    let messages: Messages = Arc::default();
    let sink = messages.clone();
    (messages, move |level, msg: &str| {
        sink.lock().unwrap().push((level, msg.to_string()))
    })
}

#[test]
fn process_wide_and_per_context_log_callbacks() {
    let (global, f) = collector();
    gisp::set_log_callback(LogLevel::Info, f);
    drop(Model::load(tiny_model(), gisp::Device::Cpu).unwrap());
    let n = global.lock().unwrap().len();
    assert!(n > 0, "the process-wide callback got nothing from a load");
    assert!(global
        .lock()
        .unwrap()
        .iter()
        .all(|(l, m)| *l >= LogLevel::Info && !m.is_empty()));

    // A context with its own sink takes the messages of its calls away from the global one.
    let (own, f) = collector();
    let ctx = Context::new()
        .unwrap()
        .log_callback(LogLevel::Debug, f)
        .unwrap();
    let options = LoadOptions::new().unwrap().context(&ctx).unwrap();
    drop(Model::load_with_options(tiny_model(), &options).unwrap());
    assert!(!own.lock().unwrap().is_empty());
    assert_eq!(
        global.lock().unwrap().len(),
        n,
        "{:?}",
        global.lock().unwrap()
    );

    // Messages below the minimum level are dropped.
    let (errors_only, f) = collector();
    gisp::set_log_callback(LogLevel::Error, f);
    drop(Model::load(tiny_model(), gisp::Device::Cpu).unwrap());
    assert!(errors_only.lock().unwrap().is_empty());

    // Cleared: nothing more arrives anywhere.
    let (after, f) = collector();
    gisp::set_log_callback(LogLevel::Debug, f);
    gisp::clear_log_callback();
    drop(Model::load(tiny_model(), gisp::Device::Cpu).unwrap());
    assert!(after.lock().unwrap().is_empty());
    assert_eq!(global.lock().unwrap().len(), n);
}
