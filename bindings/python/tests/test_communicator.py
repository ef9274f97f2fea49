"""Data-parallel pruning through Python: two ranks as threads, whose collectives meet at a
threading.Barrier (tools/ci/suite_mpi.sh does the same over MPI), prune the tiny model together
and end with the single-process record; a rank whose setup failed stops both, named."""
import pathlib
import threading

import numpy as np
import pytest

import gisp
from gisp import _lib

ROOT = pathlib.Path(__file__).resolve().parents[3]
TINY = ROOT / "testdata" / "tiny"
# The CLI's parity configuration (tools/ci/cli_reference_record.sh): two batches, one per rank.
PARITY = dict(window_tokens=64, count=8, seed=0)
PARITY_CONFIG = dict(ratio=0.5, steps=3, batch_size=4)
WAIT = 60  # seconds; a collective that waits longer is a hang

pytestmark = pytest.mark.skipif(not _lib.has("gisp_communicator_agree"),
                                reason=f"{_lib.path} lacks the communicator functions; rebuild "
                                "libgisp (bazel build //c_api:shared_library)")


class ThreadRank:
    """One rank of a group of threads: every collective publishes this rank's data, meets the
    others at the barrier, combines in rank order (the same bits on every rank) and meets again."""

    def __init__(self, barrier, slots, rank):
        self.barrier, self.slots, self.rank = barrier, slots, rank

    def _exchange(self, data):
        self.slots[self.rank] = np.array(data, copy=True)
        self.barrier.wait(WAIT)
        everyone = list(self.slots)
        self.barrier.wait(WAIT)
        return everyone

    def all_reduce(self, array):
        everyone = self._exchange(array)
        total = np.zeros_like(array)
        for part in everyone:
            total += part
        array[...] = total

    def broadcast(self, buffer, root):
        buffer[:] = self._exchange(np.frombuffer(buffer, np.uint8))[root].tobytes()


def thread_ranks(size):
    barrier, slots = threading.Barrier(size), [None] * size
    return [ThreadRank(barrier, slots, r) for r in range(size)]


def prune(rank=None, calib="calib.txt"):
    """One rank (`rank`: a ThreadRank of 2) or one process: the parity configuration on one
    thread. Returns (the agreed setup error or None, the record's bytes or None)."""
    comm = None if rank is None else gisp.Communicator(rank.rank, 2, rank)
    ctx = gisp.Context(num_threads=1, communicator=comm)
    model = data = None
    try:
        model = gisp.Model(TINY / "model", options=gisp.LoadOptions(context=ctx))
        data = gisp.Calibration.text_windows(model, TINY / calib, **PARITY)
        local = None
    except gisp.Error as e:
        local = e
    try:
        if comm is not None:
            comm.agree(local)
        elif local is not None:
            raise local
    except gisp.Error as e:
        return e, None
    with gisp.Pruner(model, data, gisp.PruneConfig(**PARITY_CONFIG)) as pruner:
        pruner.run()
        return None, pruner.record().to_bytes()


def on_two_ranks(calibs):
    results = [None, None]

    def run(rank, calib):
        results[rank.rank] = prune(rank, calib)
    threads = [threading.Thread(target=run, args=(r, c)) for r, c in zip(thread_ranks(2), calibs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
    return results


def decisions(record_bytes):
    r = gisp.Record.from_bytes(record_bytes)
    return (r.num_steps, r.complete, r.unit_steps().tolist(), r.step_sparsity().tolist(),
            r.step_loss().tolist())


def test_two_ranks_end_with_the_single_process_record():
    error, single = prune()
    assert error is None and single
    results = on_two_ranks(["calib.txt", "calib.txt"])
    for rank, (error, record) in enumerate(results):
        assert error is None, f"rank {rank}: {error}"
        # Every rank holds the same Gbar: the same bytes.
        assert record == results[0][1], f"rank {rank}: the ranks' records differ"
        # Against one process only the order of the f32 gradient additions can differ (whether
        # the GEMM adds a batch into the running sum in one piece depends on the CPU's oneDNN
        # kernels), moving thresholds in their last bits: every unit is pruned at the same step,
        # and sparsities and losses are equal (docs/scaling.md, "Determinism").
        assert decisions(record) == decisions(single), f"rank {rank}: decisions differ"


def test_a_rank_that_fails_setup_stops_both_naming_it():
    for error, record in on_two_ranks(["calib.txt", "missing.txt"]):
        assert error.code == gisp.Code.NOT_FOUND
        assert error.message.startswith("rank 1 of 2: ") and "missing.txt" in error.message
        assert record is None


def test_communicators_are_validated():
    with pytest.raises(gisp.Error, match="rank 2 of size 2"):
        gisp.Communicator(2, 2, thread_ranks(2)[0])
    one = gisp.Communicator(0, 1, thread_ranks(1)[0])
    one.agree(None)
    with pytest.raises(gisp.Error) as e:
        one.agree(gisp.Error(gisp.Code.DATA_LOSS, "calib.txt is truncated"))
    assert e.value.code == gisp.Code.DATA_LOSS and e.value.message == "calib.txt is truncated"
    with pytest.raises(gisp.Error) as e:
        one.agree(ValueError("plain"))
    assert e.value.code == gisp.Code.UNKNOWN and e.value.message == "plain"
    ctx = gisp.Context(communicator=one)
    assert ctx.communicator is one
