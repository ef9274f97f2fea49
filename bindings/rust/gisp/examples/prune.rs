//! Prunes a model from the command line:
//!   cargo run --example prune -- MODEL_DIR CALIB_TEXT OUT_DIR [ratio] [steps] [target]
use gisp::{Calibration, DType, Device, Model, PruneConfig, Pruner};
use std::process::ExitCode;

fn run(args: &[String]) -> gisp::Result<()> {
    let (model_dir, calib, out) = (&args[1], &args[2], &args[3]);
    let ratio: f64 = args.get(4).map_or(0.5, |s| s.parse().unwrap_or(0.5));
    let steps: i32 = args.get(5).map_or(8, |s| s.parse().unwrap_or(8));
    let target: f64 = args.get(6).map_or(0.3, |s| s.parse().unwrap_or(0.3));
    let mut model = Model::load(model_dir, Device::Cpu)?;
    let data = Calibration::text_windows(&mut model, calib, 128, 32, 0)?;
    let config = PruneConfig::new()?
        .ratio(ratio)?
        .steps(steps)?
        .batch_size(8)?;
    let record = {
        let mut pruner = Pruner::new(&mut model, &data, &config, None)?;
        pruner.run_with(|p| {
            if p.batch == p.batches {
                eprintln!(
                    "step {}/{}  sparsity {:.1}%  loss {:.4}",
                    p.step + 1,
                    p.steps,
                    100.0 * p.sparsity,
                    p.loss
                );
            }
            true
        })?;
        pruner.record()?
    };
    let step = record.nearest_step(target)?;
    let small = model.materialize(&record, step)?;
    small.export(out, DType::Auto)?;
    println!(
        "step {step}: {} parameters written to {out}",
        small.total_parameters()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: prune MODEL_DIR CALIB_TEXT OUT_DIR [ratio] [steps] [target]");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
