package gisp

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// threadGroup is a fake transport for ranks that are goroutines of this process: every
// collective publishes a copy of each rank's data, meets at a barrier, combines them in rank
// order (so every rank computes the same bits) and meets again.
type threadGroup struct {
	mu      sync.Mutex
	cond    *sync.Cond
	arrived int
	round   int
	slots   []any
}

func newThreadGroup(size int) *threadGroup {
	g := &threadGroup{slots: make([]any, size)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *threadGroup) wait() {
	g.mu.Lock()
	defer g.mu.Unlock()
	round := g.round
	if g.arrived++; g.arrived == len(g.slots) {
		g.arrived, g.round = 0, g.round+1
		g.cond.Broadcast()
		return
	}
	for g.round == round {
		g.cond.Wait()
	}
}

type threadRank struct {
	g    *threadGroup
	rank int
}

// exchange publishes v (a copy of this rank's data) and returns every rank's.
func (r threadRank) exchange(v any) []any {
	r.g.mu.Lock()
	r.g.slots[r.rank] = v
	r.g.mu.Unlock()
	r.g.wait()
	r.g.mu.Lock()
	all := append([]any(nil), r.g.slots...)
	r.g.mu.Unlock()
	r.g.wait()
	return all
}

func sumOverRanks[T float32 | float64](r threadRank, data []T) error {
	all := r.exchange(append([]T(nil), data...))
	for i := range data {
		var sum T
		for _, o := range all {
			sum += o.([]T)[i]
		}
		data[i] = sum
	}
	return nil
}

func (r threadRank) AllReduceFloat32(data []float32) error { return sumOverRanks(r, data) }
func (r threadRank) AllReduceFloat64(data []float64) error { return sumOverRanks(r, data) }

func (r threadRank) Broadcast(data []byte, root int) error {
	copy(data, r.exchange(append([]byte(nil), data...))[root].([]byte))
	return nil
}

// pruneRank runs the CLI's parity configuration on one thread, as rank `rank` of 2 over g (g
// nil: one process alone); calib names the calibration file under testdata/tiny. It returns the
// agreed setup outcome and the record's bytes.
func pruneRank(t *testing.T, g *threadGroup, rank int, calib string) (error, []byte) {
	ctx, err := NewContext()
	if err != nil {
		t.Error(err)
		return err, nil
	}
	defer ctx.Close()
	var comm *Communicator
	if g != nil {
		if comm, err = NewCommunicator(rank, 2, threadRank{g, rank}); err != nil {
			t.Error(err)
			return err, nil
		}
		defer comm.Close()
	}
	if err = ctx.SetNumThreads(1); err == nil && comm != nil {
		err = ctx.SetCommunicator(comm)
	}
	if err != nil {
		t.Error(err)
		return err, nil
	}
	tiny := filepath.Join(root(t), "testdata/tiny")
	var m *Model
	var data *Calibration
	setup := func() error {
		o := NewLoadOptions().SetContext(ctx)
		if m, err = LoadWithOptions(context.Background(), filepath.Join(tiny, "model"), o); err != nil {
			return err
		}
		data, err = TextWindows(context.Background(), m, filepath.Join(tiny, calib), 64, 8, 0)
		return err
	}
	local := setup()
	if m != nil {
		defer m.Close()
	}
	if data != nil {
		defer data.Close()
	}
	agreed := local
	if comm != nil {
		agreed = comm.Agree(local)
	}
	if agreed != nil {
		return agreed, nil
	}
	c, err := NewPruneConfig(Ratio(0.5), Steps(3), BatchSize(4))
	if err != nil {
		t.Error(err)
		return err, nil
	}
	defer c.Close()
	p, err := NewPruner(m, data, c, nil)
	if err != nil {
		t.Error(err)
		return err, nil
	}
	defer p.Close()
	if err := p.Run(context.Background(), nil); err != nil {
		t.Error(err)
		return err, nil
	}
	r, err := p.Record()
	if err != nil {
		t.Error(err)
		return err, nil
	}
	defer r.Close()
	b, _ := r.Bytes()
	return nil, b
}

func onTwoRanks(t *testing.T, calibs [2]string) (errs [2]error, records [2][]byte) {
	g := newThreadGroup(2)
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func(r int) {
			defer wg.Done()
			errs[r], records[r] = pruneRank(t, g, r, calibs[r])
		}(r)
	}
	wg.Wait()
	return errs, records
}

func TestTwoRanksEndWithTheSingleProcessRecord(t *testing.T) {
	err, single := pruneRank(t, nil, 0, "calib.txt")
	if err != nil || len(single) == 0 {
		t.Fatalf("one process: %v", err)
	}
	errs, records := onTwoRanks(t, [2]string{"calib.txt", "calib.txt"})
	for r := 0; r < 2; r++ {
		if errs[r] != nil {
			t.Fatalf("rank %d: %v", r, errs[r])
		}
		// Every rank holds the same Gbar: the same bytes.
		if !bytes.Equal(records[r], records[0]) {
			t.Errorf("rank %d: the ranks' records differ", r)
		}
		// Against one process only the order of the f32 gradient additions can differ (whether
		// the GEMM adds a batch into the running sum in one piece depends on the CPU's oneDNN
		// kernels), moving thresholds in their last bits: every unit is pruned at the same step,
		// and sparsities and losses are equal (docs/scaling.md, "Determinism").
		if got, want := decisions(t, records[r]), decisions(t, single); !reflect.DeepEqual(got, want) {
			t.Errorf("rank %d: decisions differ from the single-process run", r)
		}
	}
}

// decisions: what a record decided, without the last bits of its thresholds.
func decisions(t *testing.T, b []byte) []interface{} {
	r, err := RecordFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	units, err1 := r.UnitSteps()
	sparsity, err2 := r.StepSparsity()
	loss, err3 := r.StepLoss()
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	return []interface{}{r.NumSteps(), r.Complete(), units, sparsity, loss}
}

func TestARankThatFailsSetupStopsBothNamingIt(t *testing.T) {
	errs, records := onTwoRanks(t, [2]string{"calib.txt", "missing.txt"})
	for r := 0; r < 2; r++ {
		var e *Error
		if !errors.As(errs[r], &e) || e.Code != NotFound ||
			!strings.HasPrefix(e.Message, "rank 1 of 2: ") || !strings.Contains(e.Message, "missing.txt") {
			t.Errorf("rank %d: got %v, want NotFound naming rank 1 and missing.txt", r, errs[r])
		}
		if records[r] != nil {
			t.Errorf("rank %d went on pruning", r)
		}
	}
}

func TestCommunicatorsAreValidated(t *testing.T) {
	_, err := NewCommunicator(2, 2, threadRank{newThreadGroup(2), 0})
	var e *Error
	if !errors.As(err, &e) || e.Code != InvalidArgument || !strings.Contains(e.Message, "rank 2 of size 2") {
		t.Errorf("rank out of range: got %v", err)
	}
	one, err := NewCommunicator(0, 1, threadRank{newThreadGroup(1), 0})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	if err := one.Agree(nil); err != nil {
		t.Errorf("agree on success: %v", err)
	}
	local := &Error{Code: DataLoss, Message: "calib.txt is truncated"}
	if err := one.Agree(local); !errors.As(err, &e) || e.Code != DataLoss || e.Message != local.Message {
		t.Errorf("agree on one rank: got %v, want %v", err, local)
	}
	if err := one.Agree(errors.New("plain error")); !errors.As(err, &e) || e.Code != Unknown {
		t.Errorf("a non-gisp error: got %v, want Unknown", err)
	}
	if got := CollectiveError(17).Error(); got != "collective failed with code 17" {
		t.Errorf("CollectiveError: %q", got)
	}
}
