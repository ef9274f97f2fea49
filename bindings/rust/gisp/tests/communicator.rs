//! Data-parallel pruning through the Rust binding: two ranks as threads, whose collectives meet
//! at a barrier (tools/ci/suite_mpi.sh does the same over MPI), prune the tiny model together and
//! end with the single-process record; a rank whose setup failed stops both, named.
use gisp::{
    Calibration, Code, Collectives, Communicator, Context, LoadOptions, Model, PruneConfig, Pruner,
    Record,
};
use std::path::PathBuf;
use std::sync::{Arc, Barrier, Mutex};

/// The ranks' shared state: every collective publishes each rank's bytes, meets at the barrier,
/// combines in rank order (so every rank computes the same bits) and meets again.
struct Group {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<u8>>>,
}

struct ThreadRank {
    group: Arc<Group>,
    rank: usize,
}

impl ThreadRank {
    fn exchange(&self, bytes: &[u8]) -> Vec<Vec<u8>> {
        self.group.slots.lock().unwrap()[self.rank] = bytes.to_vec();
        self.group.barrier.wait();
        let all = self.group.slots.lock().unwrap().clone();
        self.group.barrier.wait();
        all
    }
}

/// Sums `data` over the ranks in rank order, through the byte exchange.
macro_rules! sum_over_ranks {
    ($rank:expr, $data:expr, $t:ty) => {{
        const W: usize = std::mem::size_of::<$t>();
        let bytes: Vec<u8> = $data.iter().flat_map(|x| x.to_ne_bytes()).collect();
        let all = $rank.exchange(&bytes);
        for (i, x) in $data.iter_mut().enumerate() {
            *x = all.iter().fold(0 as $t, |sum, b| {
                sum + <$t>::from_ne_bytes(b[W * i..W * (i + 1)].try_into().unwrap())
            });
        }
        Ok(())
    }};
}

impl Collectives for ThreadRank {
    fn all_reduce_f32(&self, data: &mut [f32]) -> Result<(), i32> {
        sum_over_ranks!(self, data, f32)
    }

    fn all_reduce_f64(&self, data: &mut [f64]) -> Result<(), i32> {
        sum_over_ranks!(self, data, f64)
    }

    fn broadcast(&self, data: &mut [u8], root: i32) -> Result<(), i32> {
        let all = self.exchange(data);
        data.copy_from_slice(&all[root as usize]);
        Ok(())
    }
}

fn ranks(size: usize) -> Vec<ThreadRank> {
    let group = Arc::new(Group {
        barrier: Barrier::new(size),
        slots: Mutex::new(vec![Vec::new(); size]),
    });
    (0..size)
        .map(|rank| ThreadRank {
            group: group.clone(),
            rank,
        })
        .collect()
}

fn tiny() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testdata/tiny")
        .canonicalize()
        .unwrap()
}

/// One rank (or, without `rank`, one process) of the CLI's parity configuration, one thread
/// each; `calib` may name a missing file. Returns the agreed setup outcome and the record bytes.
fn prune(rank: Option<ThreadRank>, calib: &str) -> (gisp::Result<()>, Option<Vec<u8>>) {
    let mut ctx = Context::new().unwrap().num_threads(1).unwrap();
    let comm = rank.map(|r| Communicator::new(r.rank as i32, 2, r).unwrap());
    if let Some(c) = &comm {
        ctx = ctx.communicator(c).unwrap();
    }
    let options = LoadOptions::new().unwrap().context(&ctx).unwrap();
    drop(ctx); // the options and the model keep what they need
    let setup = || -> gisp::Result<(Model, Calibration)> {
        let mut model = Model::load_with_options(tiny().join("model"), &options)?;
        let data = Calibration::text_windows(&mut model, tiny().join(calib), 64, 8, 0)?;
        Ok((model, data))
    };
    let built = setup();
    let local = built.as_ref().map(|_| ()).map_err(|e| e.clone());
    let agreed = match &comm {
        Some(c) => c.agree(&local),
        None => local,
    };
    drop(comm); // the model keeps the collectives alive
    let (Ok(()), Ok((mut model, data))) = (&agreed, built) else {
        return (agreed, None);
    };
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
    let bytes = pruner.record().unwrap().to_bytes().unwrap();
    (agreed, Some(bytes))
}

fn on_two_ranks(calibs: [&'static str; 2]) -> Vec<(gisp::Result<()>, Option<Vec<u8>>)> {
    let threads: Vec<_> = ranks(2)
        .into_iter()
        .zip(calibs)
        .map(|(r, calib)| std::thread::spawn(move || prune(Some(r), calib)))
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn two_ranks_end_with_the_single_process_record() {
    let (alone, single) = prune(None, "calib.txt");
    alone.unwrap();
    let single = single.unwrap();
    let results = on_two_ranks(["calib.txt", "calib.txt"]);
    let first = results[0].1.clone().unwrap();
    for (r, (agreed, record)) in results.into_iter().enumerate() {
        agreed.unwrap();
        let record = record.unwrap();
        // Every rank holds the same Gbar: the same bytes.
        assert!(record == first, "rank {r}: the ranks' records differ");
        // Against one process only the order of the f32 gradient additions can differ (whether
        // the GEMM adds a batch into the running sum in one piece depends on the CPU's oneDNN
        // kernels), moving thresholds in their last bits: every unit is pruned at the same step,
        // and sparsities and losses are equal (docs/scaling.md, "Determinism").
        assert!(
            decisions(&record) == decisions(&single),
            "rank {r}: decisions differ"
        );
    }
}

type Decisions = (i32, bool, Vec<i32>, Vec<f64>, Vec<f64>);

fn decisions(bytes: &[u8]) -> Decisions {
    let r = Record::from_bytes(bytes).unwrap();
    (
        r.num_steps(),
        r.complete(),
        r.unit_steps().unwrap(),
        r.step_sparsity().unwrap(),
        r.step_loss().unwrap(),
    )
}

#[test]
fn a_rank_that_fails_setup_stops_both_naming_it() {
    for (agreed, record) in on_two_ranks(["calib.txt", "missing.txt"]) {
        let err = agreed.unwrap_err();
        assert_eq!(err.code, Code::NotFound);
        assert!(err.message.starts_with("rank 1 of 2: "), "{}", err.message);
        assert!(err.message.contains("missing.txt"), "{}", err.message);
        assert!(record.is_none());
    }
}

#[test]
fn communicators_are_validated() {
    let err = Communicator::new(2, 2, ranks(1).pop().unwrap())
        .err()
        .unwrap();
    assert_eq!(err.code, Code::InvalidArgument);
    assert!(err.message.contains("rank 2 of size 2"), "{}", err.message);
    // One rank: agree hands back the local outcome.
    let one = Communicator::new(0, 1, ranks(1).pop().unwrap()).unwrap();
    one.agree(&Ok(())).unwrap();
    let local = Err(gisp::Error {
        code: Code::DataLoss,
        message: "calib.txt is truncated".into(),
    });
    assert_eq!(one.agree(&local), local);
    let ctx = Context::new().unwrap().communicator(&one).unwrap();
    assert!(format!("{ctx:?}").contains("communicator: true"));
}
