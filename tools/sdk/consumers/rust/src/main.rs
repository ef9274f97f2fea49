//! Prunes the SDK's tiny model with the settings of tools/sdk/consumers/prune_tiny.c and saves
//! the record: prune_tiny MODEL_DIR CALIB_TEXT RECORD_OUT
use gisp::{Calibration, Device, Model, PruneConfig, Pruner};
use std::process::ExitCode;

fn run(model_dir: &str, calib: &str, record_out: &str) -> gisp::Result<()> {
    let mut model = Model::load(model_dir, Device::Cpu)?;
    let data = Calibration::text_windows(&mut model, calib, 64, 8, 0)?;
    let config = PruneConfig::new()?.ratio(0.5)?.steps(3)?.batch_size(4)?;
    let mut pruner = Pruner::new(&mut model, &data, &config, None)?;
    pruner.run()?;
    let record = pruner.record()?;
    record.save(record_out)?;
    println!("gisp {}: record {record_out}", gisp::version());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: prune_tiny MODEL_DIR CALIB_TEXT RECORD_OUT");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2], &args[3]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
