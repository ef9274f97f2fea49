//! Tests of the safe Rust bindings (run by tools/test.sh: `cargo test --offline`).
//! The parity test compares with the record the CLI wrote for the same configuration
//! ($GISP_CLI_RECORD, from tools/ci/cli_reference_record.sh).
use gisp::{
    Calibration, Code, Device, GqaUnit, LoadOptions, Method, Model, Normalization, Objective,
    PruneConfig, Pruner, Record,
};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../..")
        .canonicalize()
        .unwrap()
}

fn fixture() -> PathBuf {
    root().join("testdata/llama/llama3_gqa_headdim_f32")
}

fn token_data(vocab: i64) -> Vec<Vec<i32>> {
    (0..4)
        .map(|i| {
            (0..12)
                .map(|t| ((i * 37 + t * 11) % vocab) as i32)
                .collect()
        })
        .collect()
}

fn small_config() -> PruneConfig {
    PruneConfig::new()
        .unwrap()
        .steps(4)
        .unwrap()
        .ratio(0.3)
        .unwrap()
        .protect_first_fraction(0.0)
        .unwrap()
        .protect_last(false)
        .unwrap()
}

#[test]
fn version_and_abi() {
    assert_eq!(gisp::version(), "0.1.0");
    gisp::check_abi().unwrap();
}

// Layer streaming (LoadOptions::stream_layers) runs the same kernels on the same values: the
// record is the resident run's, byte for byte.
#[test]
fn streamed_layers_give_the_resident_record() {
    let records: Vec<Vec<u8>> = [false, true]
        .iter()
        .map(|&stream| {
            let options = LoadOptions::new().unwrap().stream_layers(stream).unwrap();
            let mut model = Model::load_with_options(fixture(), &options).unwrap();
            let data =
                Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
            let mut pruner = Pruner::new(&mut model, &data, &small_config(), None).unwrap();
            pruner.run().unwrap();
            pruner.record().unwrap().to_bytes().unwrap()
        })
        .collect();
    assert_eq!(records[0], records[1]);
}

#[test]
fn bad_path_and_bad_option() {
    let err = Model::load("/nonexistent/model", Device::Cpu)
        .err()
        .unwrap();
    assert_eq!(err.code, Code::NotFound);
    assert!(
        err.message.contains("/nonexistent/model"),
        "{}",
        err.message
    );
    let err = PruneConfig::new().unwrap().ratio(1.5).err().unwrap();
    assert_eq!(err.code, Code::InvalidArgument);
    assert!(err.message.contains("ratio"));
    assert!(PruneConfig::new().unwrap().steps(0).is_err());
}

#[test]
fn record_is_byte_identical_to_the_cli() {
    let Ok(reference) = std::env::var("GISP_CLI_RECORD") else {
        eprintln!("GISP_CLI_RECORD not set; skipped (tools/test.sh sets it)");
        return;
    };
    let tiny = root().join("testdata/tiny");
    let mut model = Model::load(tiny.join("model"), Device::Cpu).unwrap();
    let data = Calibration::text_windows(&mut model, tiny.join("calib.txt"), 64, 8, 0).unwrap();
    let config = PruneConfig::new()
        .unwrap()
        .ratio(0.5)
        .unwrap()
        .steps(3)
        .unwrap()
        .batch_size(4)
        .unwrap();
    let mut pruner = Pruner::new(&mut model, &data, &config, None).unwrap();
    pruner.run().unwrap();
    let ours = pruner.record().unwrap().to_bytes().unwrap();
    assert_eq!(ours, std::fs::read(reference).unwrap());
}

#[test]
fn run_materialize_export() {
    let dir = std::env::temp_dir().join(format!("gisp-rust-{}", std::process::id()));
    let mut model = Model::load(fixture(), Device::Cpu).unwrap();
    assert_eq!(model.num_layers(), 2);
    let before = model.total_parameters();
    let data = Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
    assert_eq!(data.len(), 4);
    let record = {
        let mut pruner = Pruner::new(&mut model, &data, &small_config(), None).unwrap();
        let mut calls = 0;
        pruner
            .run_with(|p| {
                calls += 1;
                assert!(p.batch <= p.batches);
                true
            })
            .unwrap();
        assert!(calls > 0 && pruner.done());
        assert_eq!(
            pruner.scores().unwrap().len() as i64,
            pruner.record().unwrap().num_units()
        );
        pruner.record().unwrap()
    };
    assert!(record.complete());
    let sparsity = record.step_sparsity().unwrap();
    assert!(sparsity.windows(2).all(|w| w[1] >= w[0]) && sparsity[3] > 0.0);
    let steps = record.unit_steps().unwrap();
    assert!(steps.iter().any(|&s| s >= 0));
    let copy = Record::from_bytes(&record.to_bytes().unwrap()).unwrap();
    assert_eq!(copy.num_units(), record.num_units());
    assert!(Record::from_bytes(&[1, 2, 3]).is_err());
    let small = model.materialize(&record, 3).unwrap();
    assert!(small.total_parameters() < before);
    small.export(&dir, gisp::DType::Auto).unwrap();
    let reloaded = Model::load(&dir, Device::Cpu).unwrap();
    assert!(reloaded
        .config_json()
        .unwrap()
        .contains("\"gisp_per_layer_config\""));
    // The uniform export is padded (at least the exact count); a non-empty directory is refused.
    let uniform = dir.join("llama");
    let (n, exact) = small
        .export_format(&uniform, gisp::ExportFormat::Llama, gisp::DType::F32)
        .unwrap();
    assert_eq!(exact, small.total_parameters());
    assert!(n >= exact);
    let err = small
        .export_format(&uniform, gisp::ExportFormat::Llama, gisp::DType::F32)
        .unwrap_err();
    assert!(err.to_string().contains("not empty"), "{}", err);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cancellation_and_resume() {
    let run_all = || {
        let mut model = Model::load(fixture(), Device::Cpu).unwrap();
        let data = Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
        let mut pruner = Pruner::new(&mut model, &data, &small_config(), None).unwrap();
        pruner.run().unwrap();
        pruner.record().unwrap().to_bytes().unwrap()
    };
    let uninterrupted = run_all();
    let mut model = Model::load(fixture(), Device::Cpu).unwrap();
    let data = Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
    let partial = {
        let mut pruner = Pruner::new(&mut model, &data, &small_config(), None).unwrap();
        let err = pruner.run_with(|p| p.step < 2).err().unwrap();
        assert_eq!(err.code, Code::Cancelled);
        let partial = pruner.record().unwrap();
        assert_eq!(partial.num_steps(), 2);
        assert!(!partial.complete());
        partial
    };
    let mut fresh = Model::load(fixture(), Device::Cpu).unwrap();
    let data = Calibration::from_tokens(&token_data(fresh.vocab_size()), None, None).unwrap();
    let mut pruner = Pruner::new(&mut fresh, &data, &small_config(), Some(&partial)).unwrap();
    assert_eq!(pruner.next_step(), 2);
    pruner.run().unwrap();
    assert_eq!(pruner.record().unwrap().to_bytes().unwrap(), uninterrupted);
}

#[test]
fn a_panicking_callback_cancels_instead_of_unwinding_through_c() {
    let mut model = Model::load(fixture(), Device::Cpu).unwrap();
    let data = Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
    let mut pruner = Pruner::new(&mut model, &data, &small_config(), None).unwrap();
    let err = pruner
        .run_with(|_| panic!("callback failure"))
        .err()
        .unwrap();
    assert_eq!(err.code, Code::Cancelled);
}

#[test]
fn baseline_method_runs_one_step_per_target() {
    assert_eq!(Method::WandaSp.name(), "wanda-sp");
    assert_eq!(Method::from_name("llm-pruner").unwrap(), Method::LlmPruner);
    assert_eq!(
        Method::from_name("wanda").unwrap_err().code,
        Code::InvalidArgument
    );
    let err = PruneConfig::new()
        .unwrap()
        .target_sparsities(&[0.2, 1.0])
        .err()
        .unwrap();
    assert!(err.message.contains("target sparsities"), "{}", err.message);
    let config = small_config()
        .method(Method::LlmPruner)
        .unwrap()
        .seed(2)
        .unwrap()
        .target_sparsities(&[0.3, 0.1, 0.2])
        .unwrap();
    let mut model = Model::load(fixture(), Device::Cpu).unwrap();
    let data = Calibration::from_tokens(&token_data(model.vocab_size()), None, None).unwrap();
    let record = {
        let mut pruner = Pruner::new(&mut model, &data, &config, None).unwrap();
        pruner.run().unwrap();
        pruner.record().unwrap()
    };
    assert!(record.complete());
    let sparsity = record.step_sparsity().unwrap();
    assert_eq!(sparsity.len(), 3);
    assert!(sparsity.windows(2).all(|w| w[1] >= w[0]));
    assert!((sparsity[0] - 0.1).abs() < 0.08 && (sparsity[2] - 0.3).abs() < 0.08);
}

#[test]
fn option_names_and_sparsity_range() {
    assert_eq!(Objective::AnswerOnly.name(), "answer-only");
    assert_eq!(Normalization::None.name(), "none");
    assert_eq!(GqaUnit::from_name("kv-group").unwrap(), GqaUnit::KvGroup);
    let err = Objective::from_name("Margin").unwrap_err();
    assert_eq!(err.code, Code::InvalidArgument);
    assert!(
        err.message
            .contains(r#"objective must be lm, answer-only or margin, got "Margin""#),
        "{}",
        err.message
    );

    // The dense model's own sparsity (its norm weights) and the bound of a run at ratio 0.3.
    let model = Model::load(
        root().join("testdata/llama/llama3_gqa_headdim_f32"),
        Device::Cpu,
    )
    .unwrap();
    let config = PruneConfig::new().unwrap().ratio(0.3).unwrap();
    let (dense, reachable) = config.sparsity_range(&model).unwrap();
    assert!(dense > 0.0 && dense < 0.1 && reachable > dense && reachable < 1.0);
}

#[test]
fn logits_multiple_choice_timings_and_checkpoints() {
    let tiny = root().join("testdata/tiny");
    let mut model = Model::load(tiny.join("model"), Device::Cpu).unwrap();
    let vocab = model.vocab_size() as usize;
    let ids = model
        .tokenize("In the beginning God created", true)
        .unwrap();
    let logits = model.logits(&ids).unwrap();
    assert_eq!(logits.len(), ids.len() * vocab);
    assert!(logits.iter().all(|x| x.is_finite()));
    assert!(model.logits(&[vocab as i32]).is_err());

    let dir = std::env::temp_dir().join(format!("gisp-rust-mc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let jsonl = dir.join("mc.jsonl");
    std::fs::write(
        &jsonl,
        concat!(
            r#"{"context": "In the beginning God", "choices": [" created the heaven", " zq xv"], "label": 0}"#,
            "\n",
            r#"{"context": "And God said, Let there be", "choices": [" qx zv", " light"], "label": 1}"#,
            "\n"
        ),
    )
    .unwrap();
    let (acc, acc_norm) = model.multiple_choice_accuracy(&jsonl, 0).unwrap();
    assert!((0.0..=1.0).contains(&acc) && (0.0..=1.0).contains(&acc_norm));
    let err = model
        .multiple_choice_accuracy(dir.join("missing.jsonl"), 0)
        .unwrap_err();
    assert_eq!(err.code, Code::NotFound);

    let data = Calibration::text_windows(&mut model, tiny.join("calib.txt"), 64, 4, 0).unwrap();
    let config = PruneConfig::new().unwrap().steps(2).unwrap();
    let checkpoint = dir.join("checkpoint.json");
    let mut pruner = Pruner::new(&mut model, &data, &config, None).unwrap();
    pruner.set_checkpoint(&checkpoint).unwrap();
    let mut calls = 0;
    pruner
        .step_with(|p| {
            calls += 1;
            p.step == 0
        })
        .unwrap();
    assert!(calls > 0);
    assert_eq!(Record::load(&checkpoint).unwrap().num_steps(), 1);
    std::fs::remove_file(&checkpoint).unwrap();
    pruner.clear_checkpoint().unwrap();
    pruner.step().unwrap();
    assert!(!checkpoint.exists());
    // An array of gisp.proto's StepTiming: both steps this pruner ran.
    let timings = pruner.timings_json().unwrap();
    assert!(
        timings.starts_with("[{")
            && timings.contains("\"step\": 0,")
            && timings.contains("\"step\": 1,"),
        "{timings}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
