package gisp

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func root(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func tokenData(vocab int64) [][]int32 {
	var out [][]int32
	for i := int64(0); i < 4; i++ {
		var s []int32
		for t := int64(0); t < 12; t++ {
			s = append(s, int32((i*37+t*11)%vocab))
		}
		out = append(out, s)
	}
	return out
}

func smallConfig(t *testing.T) *PruneConfig {
	c, err := NewPruneConfig(Steps(4), Ratio(0.3), ProtectFirstFraction(0), ProtectLast(false))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tokenCalibration is tokenData for m as calibration data: checked against the model when
// checked, else with FromTokens. Fails the test on an error.
func tokenCalibration(t *testing.T, m *Model, checked bool) *Calibration {
	t.Helper()
	var data *Calibration
	var err error
	if checked {
		data, err = FromModelTokens(context.Background(), m, tokenData(mustInt(t)(m.VocabSize())), nil, nil)
	} else {
		data, err = FromTokens(tokenData(mustInt(t)(m.VocabSize())), nil, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// smallPruner is a pruner of m over data with smallConfig; the caller closes it.
func smallPruner(t *testing.T, m *Model, data *Calibration) *Pruner {
	t.Helper()
	p, err := NewPruner(m, data, smallConfig(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustInt(t)(m.VocabSize()) is the value, failing the test on an error.
func mustInt(t *testing.T) func(int64, error) int64 {
	return func(v int64, err error) int64 {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func fixture(t *testing.T) string {
	return filepath.Join(root(t), "testdata/llama/llama3_gqa_headdim_f32")
}

func TestVersion(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(root(t), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	if v := strings.TrimSpace(string(want)); Version() != v || PackageVersion != v {
		t.Fatalf("library %q, package %q, VERSION file %q", Version(), PackageVersion, v)
	}
}

func TestErrors(t *testing.T) {
	_, err := LoadModel("/nonexistent/model", CPU)
	if !IsCode(err, NotFound) || !strings.Contains(err.Error(), "/nonexistent/model") {
		t.Fatalf("got %v", err)
	}
	_, err = NewPruneConfig(Ratio(1.5))
	if !IsCode(err, InvalidArgument) || !strings.Contains(err.Error(), "ratio") {
		t.Fatalf("got %v", err)
	}
}

func TestOptionNamesComeFromTheLibrary(t *testing.T) {
	if AnswerOnly.String() != "answer-only" || NoNormalization.String() != "none" ||
		KVGroup.String() != "kv-group" {
		t.Fatalf("names %v %v %v", AnswerOnly, NoNormalization, KVGroup)
	}
	if o, err := ParseObjective("margin"); err != nil || o != Margin {
		t.Fatal(o, err)
	}
	if n, err := ParseNormalization("paper"); err != nil || n != PaperNormalization {
		t.Fatal(n, err)
	}
	_, err := ParseGQAUnit("kv_group")
	if !IsCode(err, InvalidArgument) ||
		!strings.Contains(err.Error(), `GQA unit must be query-head or kv-group, got "kv_group"`) {
		t.Fatalf("got %v", err)
	}
}

func TestBaselineMethodRunsOneStepPerTarget(t *testing.T) {
	if WandaSPMethod.String() != "wanda-sp" || LLMPrunerMethod.String() != "llm-pruner" {
		t.Fatalf("names %v %v", WandaSPMethod, LLMPrunerMethod)
	}
	if v, err := ParseMethod("magnitude"); err != nil || v != MagnitudeMethod {
		t.Fatal(v, err)
	}
	if _, err := ParseMethod("wanda"); !IsCode(err, InvalidArgument) {
		t.Fatalf("got %v", err)
	}
	if _, err := NewPruneConfig(TargetSparsities(0.2, 1.0)); !IsCode(err, InvalidArgument) ||
		!strings.Contains(err.Error(), "target sparsities") {
		t.Fatalf("got %v", err)
	}
	m, err := LoadModel(fixture(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data := tokenCalibration(t, m, false)
	c, err := NewPruneConfig(ProtectFirstFraction(0), ProtectLast(false), WithMethod(RandomMethod),
		Seed(4), TargetSparsities(0.3, 0.1, 0.2))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPruner(m, data, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	r, _ := p.Record()
	sp, _ := r.StepSparsity()
	if !r.Complete() || len(sp) != 3 || sp[0] > sp[1] || sp[1] > sp[2] ||
		math.Abs(sp[0]-0.1) > 0.08 || math.Abs(sp[2]-0.3) > 0.08 {
		t.Fatalf("sparsity %v", sp)
	}
}

func TestRecordIsByteIdenticalToTheCLI(t *testing.T) {
	ref := os.Getenv("GISP_CLI_RECORD")
	if ref == "" {
		t.Skip("GISP_CLI_RECORD not set (tools/test.sh sets it)")
	}
	tiny := filepath.Join(root(t), "testdata/tiny")
	m, err := LoadModel(filepath.Join(tiny, "model"), CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	data, err := TextWindows(context.Background(), m, filepath.Join(tiny, "calib.txt"), 64, 8, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	c, err := NewPruneConfig(Ratio(0.5), Steps(3), BatchSize(4))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPruner(m, data, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	r, _ := p.Record()
	ours, _ := r.Bytes()
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, want) {
		t.Fatalf("record differs from the CLI's (%d vs %d bytes)", len(ours), len(want))
	}
}

// Layer streaming (LoadOptions.SetStreamLayers) runs the same kernels on the same values: the
// record is the resident run's, byte for byte.
func TestStreamedLayersGiveTheResidentRecord(t *testing.T) {
	var records [][]byte
	for _, stream := range []bool{false, true} {
		m, err := LoadWithOptions(context.Background(), fixture(t), NewLoadOptions().SetStreamLayers(stream))
		if err != nil {
			t.Fatal(err)
		}
		data, err := FromTokens(tokenData(mustInt(t)(m.VocabSize())), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPruner(m, data, smallConfig(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		r, _ := p.Record()
		b, err := r.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, b)
		p.Close()
		data.Close()
		m.Close()
	}
	if !bytes.Equal(records[0], records[1]) {
		t.Fatalf("streamed record differs from the resident one (%d vs %d bytes)", len(records[1]), len(records[0]))
	}
}

func run(t *testing.T, resume *Record, ctx context.Context, progress func(Progress)) (*Pruner, error) {
	m, err := LoadModel(fixture(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	data, err := FromTokens(tokenData(mustInt(t)(m.VocabSize())), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPruner(m, data, smallConfig(t), resume)
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Run(ctx, progress)
}

func TestRunMaterializeExport(t *testing.T) {
	m, err := LoadModel(fixture(t), CPU)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	before := mustInt(t)(m.TotalParameters())
	data := tokenCalibration(t, m, false)
	if data.Len() != 4 {
		t.Fatal(data.Len())
	}
	// Before the run: the dense model's own sparsity (norm weights) and the reachable bound.
	dense, reachable, err := smallConfig(t).SparsityRange(m)
	if err != nil || dense <= 0 || dense >= 0.1 || reachable <= dense || reachable >= 1 {
		t.Fatal(dense, reachable, err)
	}
	p := smallPruner(t, m, data)
	calls := 0
	if err := p.Run(context.Background(), func(Progress) { calls++ }); err != nil || calls == 0 {
		t.Fatal(err, calls)
	}
	r, _ := p.Record()
	sp, _ := r.StepSparsity()
	if !r.Complete() || len(sp) != 4 || sp[3] <= sp[0] || sp[0] <= dense || sp[3] > reachable {
		t.Fatalf("sparsity %v (dense %v, reachable %v)", sp, dense, reachable)
	}
	b, _ := r.Bytes()
	if back, err := RecordFromBytes(b); err != nil || back.NumUnits() != r.NumUnits() {
		t.Fatal(err)
	}
	if _, err := RecordFromBytes(b[:len(b)/2]); err == nil {
		t.Fatal("truncated record accepted")
	}
	small, err := m.Materialize(context.Background(), r, 3)
	if err != nil || mustInt(t)(small.TotalParameters()) >= before {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := small.Export(context.Background(), dir, Auto); err != nil {
		t.Fatal(err)
	}
	back, err := LoadModel(dir, CPU)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := back.ConfigJSON()
	if !strings.Contains(cfg, "\"gisp_per_layer_config\"") {
		t.Fatal("no gisp_per_layer_config")
	}

	// The uniform export: padded, so at least the exact count; a second export into the same
	// (now non-empty) directory is refused.
	uniform := filepath.Join(t.TempDir(), "llama")
	n, exact, err := small.ExportFormat(context.Background(), uniform, ExportLlama, F32)
	if err != nil || exact != mustInt(t)(small.TotalParameters()) || n < exact {
		t.Fatalf("llama export: %v (%d, %d)", err, n, exact)
	}
	if _, _, err := small.ExportFormat(context.Background(), uniform, ExportLlama, F32); err == nil ||
		err.(*Error).Code != FailedPrecondition || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("a non-empty directory was not refused: %v", err)
	}
}

// runToTheEnd runs the fixture to its last step (continuing `resume` when not nil) and returns
// the record's bytes, failing the test on an error.
func runToTheEnd(t *testing.T, resume *Record) []byte {
	t.Helper()
	p, err := run(t, resume, context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var b []byte
	r, err := p.Record()
	if err == nil {
		b, err = r.Bytes()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestContextCancellationAndResume(t *testing.T) {
	want := runToTheEnd(t, nil)

	ctx, cancel := context.WithCancel(context.Background())
	p, err := run(t, nil, ctx, func(pr Progress) {
		if pr.Step >= 2 {
			cancel()
		}
	})
	if !IsCode(err, Cancelled) {
		t.Fatalf("got %v", err)
	}
	partial, _ := p.Record()
	if partial.NumSteps() != 2 || partial.Complete() {
		t.Fatalf("partial record has %d steps", partial.NumSteps())
	}
	if !bytes.Equal(runToTheEnd(t, partial), want) {
		t.Fatal("resumed record differs from the uninterrupted one")
	}
}
