//! Two prunes of gisp's embedded tiny model (testdata/tiny) on two threads, each under its own
//! Context with its own thread budget, checked byte for byte against the same two jobs run one
//! after the other with the same budgets:
//!
//!   cargo run --example two_threads [-- MODEL_DIR CALIB_TEXT]
//!
//! Every handle a job uses (context, model, calibration data, configuration, pruner) is made on
//! the thread that runs the job; nothing is shared, which is what the C API asks of concurrent
//! work. tests/service.rs runs the same functions (it includes this file as a module).
use gisp::{Calibration, Context, LoadOptions, Model, PruneConfig, Pruner};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// One pruning job: its configuration and its thread budget.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub ratio: f64,
    pub steps: i32,
    pub seed: u64,
    pub threads: i32,
}

/// Two different configurations, one thread each.
pub const JOBS: [Job; 2] = [
    Job {
        ratio: 0.5,
        steps: 3,
        seed: 0,
        threads: 1,
    },
    Job {
        ratio: 0.3,
        steps: 4,
        seed: 7,
        threads: 1,
    },
];

/// testdata/tiny/model and testdata/tiny/calib.txt of this repository.
pub fn tiny() -> (PathBuf, PathBuf) {
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/tiny");
    (tiny.join("model"), tiny.join("calib.txt"))
}

/// Runs `job` on the calling thread under a context of its own; returns the record's bytes.
pub fn prune(job: &Job, model_dir: &Path, calib: &Path) -> gisp::Result<Vec<u8>> {
    let ctx = Context::new()?.num_threads(job.threads)?;
    assert_eq!(ctx.threads(), job.threads);
    let options = LoadOptions::new()?.context(&ctx)?;
    drop(ctx); // the model keeps a copy
    let mut model = Model::load_with_options(model_dir, &options)?;
    let data = Calibration::text_windows(&mut model, calib, 64, 8, job.seed)?;
    let config = PruneConfig::new()?
        .ratio(job.ratio)?
        .steps(job.steps)?
        .batch_size(4)?;
    let mut pruner = Pruner::new(&mut model, &data, &config, None)?;
    pruner.run()?;
    pruner.record()?.to_bytes()
}

/// Every job on a thread of its own, all at once.
pub fn run_parallel(jobs: &[Job], model_dir: &Path, calib: &Path) -> gisp::Result<Vec<Vec<u8>>> {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| s.spawn(move || prune(job, model_dir, calib)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a pruning thread panicked"))
            .collect()
    })
}

/// The same jobs one after the other on the calling thread.
pub fn run_sequential(jobs: &[Job], model_dir: &Path, calib: &Path) -> gisp::Result<Vec<Vec<u8>>> {
    jobs.iter()
        .map(|job| prune(job, model_dir, calib))
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (model_dir, calib) = match args.len() {
        1 => tiny(),
        3 => (PathBuf::from(&args[1]), PathBuf::from(&args[2])),
        _ => {
            eprintln!("usage: two_threads [MODEL_DIR CALIB_TEXT]");
            return ExitCode::from(2);
        }
    };
    let run = || -> gisp::Result<bool> {
        let t0 = Instant::now();
        let parallel = run_parallel(&JOBS, &model_dir, &calib)?;
        let t1 = Instant::now();
        let sequential = run_sequential(&JOBS, &model_dir, &calib)?;
        let t2 = Instant::now();
        println!(
            "parallel {:.2} s, sequential {:.2} s",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64()
        );
        let mut same = true;
        for (i, (p, s)) in parallel.iter().zip(&sequential).enumerate() {
            let verdict = if p == s { "identical" } else { "DIFFERENT" };
            println!("job {i} {:?}: record {} bytes, {verdict}", JOBS[i], p.len());
            same &= p == s;
        }
        Ok(same)
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
