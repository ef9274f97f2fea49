package gisp

/*
#include <stdlib.h>
#include <gisp/gisp.h>
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Objective, Normalization and GQAUnit mirror the C enums. Their String methods and the Parse
// functions use gisp's own names ("answer-only", "paper", "kv-group"), as the prune CLI does.
type Objective int
type Normalization int
type GQAUnit int

func (v Objective) String() string {
	return C.GoString(C.gisp_objective_name(C.gisp_objective(v)))
}
func (v Normalization) String() string {
	return C.GoString(C.gisp_normalization_name(C.gisp_normalization(v)))
}
func (v GQAUnit) String() string { return C.GoString(C.gisp_gqa_unit_name(C.gisp_gqa_unit(v))) }

// Method mirrors gisp_method: the pruning method (docs/baselines.md). String and ParseMethod use
// gisp's names ("gisp", "oneshot", "wanda-sp", "flap", "llm-pruner", "magnitude", "random").
type Method int

func (v Method) String() string { return C.GoString(C.gisp_method_name(C.gisp_method(v))) }

// ParseMethod is the method gisp names `name`.
func ParseMethod(name string) (Method, error) {
	v, err := fromName(name, func(s *C.char) (int, *C.gisp_status) {
		var out C.gisp_method
		status := C.gisp_method_from_name(s, &out)
		return int(out), status
	})
	return Method(v), err
}

const (
	GISPMethod      Method = 0
	OneShotMethod   Method = 1
	WandaSPMethod   Method = 2
	FLAPMethod      Method = 3 // bias compensation added to materialized models' biases
	LLMPrunerMethod Method = 4
	MagnitudeMethod Method = 5
	RandomMethod    Method = 6
)

// fromName runs one of gisp's name parsers on `name`.
func fromName(name string, parse func(*C.char) (int, *C.gisp_status)) (int, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	v, status := parse(cname)
	return v, check(status)
}

// ParseObjective is the objective gisp names `name`: "lm", "answer-only" or "margin".
func ParseObjective(name string) (Objective, error) {
	v, err := fromName(name, func(s *C.char) (int, *C.gisp_status) {
		var out C.gisp_objective
		status := C.gisp_objective_from_name(s, &out)
		return int(out), status
	})
	return Objective(v), err
}

// ParseNormalization is the normalization gisp names `name`: "reference", "paper" or "none".
func ParseNormalization(name string) (Normalization, error) {
	v, err := fromName(name, func(s *C.char) (int, *C.gisp_status) {
		var out C.gisp_normalization
		status := C.gisp_normalization_from_name(s, &out)
		return int(out), status
	})
	return Normalization(v), err
}

// ParseGQAUnit is the GQA unit gisp names `name`: "query-head" or "kv-group".
func ParseGQAUnit(name string) (GQAUnit, error) {
	v, err := fromName(name, func(s *C.char) (int, *C.gisp_status) {
		var out C.gisp_gqa_unit
		status := C.gisp_gqa_unit_from_name(s, &out)
		return int(out), status
	})
	return GQAUnit(v), err
}

const (
	LM         Objective = 0
	AnswerOnly Objective = 1
	Margin     Objective = 2

	ReferenceNormalization Normalization = 0
	PaperNormalization     Normalization = 1
	NoNormalization        Normalization = 2

	QueryHead GQAUnit = 0
	KVGroup   GQAUnit = 1
)

// PruneConfig holds pruning options; NewPruneConfig starts from the GISP authors' defaults.
type PruneConfig struct{ p *C.gisp_prune_config }

// Option sets one configuration value (validated by gisp).
type Option func(*C.gisp_prune_config) *C.gisp_status

func WithObjective(v Objective) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_objective(c, C.gisp_objective(v))
	}
}
func Ratio(v float64) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status { return C.gisp_prune_config_set_ratio(c, C.double(v)) }
}
func Steps(v int) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status { return C.gisp_prune_config_set_steps(c, C.int32_t(v)) }
}
func WithNormalization(v Normalization) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_normalization(c, C.gisp_normalization(v))
	}
}
func WithGQAUnit(v GQAUnit) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_gqa_unit(c, C.gisp_gqa_unit(v))
	}
}
func WithMethod(v Method) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_method(c, C.gisp_method(v))
	}
}

// TargetSparsities sets the decoder sparsities of a baseline method's record steps (gisp copies
// them; none clears them).
func TargetSparsities(v ...float64) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		if len(v) == 0 {
			return C.gisp_prune_config_set_target_sparsities(c, nil, 0)
		}
		values := (*C.double)(C.malloc(C.size_t(len(v)) * C.size_t(unsafe.Sizeof(C.double(0)))))
		defer C.free(unsafe.Pointer(values))
		array := unsafe.Slice(values, len(v))
		for i, x := range v {
			array[i] = C.double(x)
		}
		return C.gisp_prune_config_set_target_sparsities(c, values, C.size_t(len(v)))
	}
}

// Seed sets the random method's seed.
func Seed(v uint64) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status { return C.gisp_prune_config_set_seed(c, C.uint64_t(v)) }
}
func RoundChannelsTo(v int) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_round_channels_to(c, C.int32_t(v))
	}
}
func ProtectFirstFraction(v float64) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_protect_first_fraction(c, C.double(v))
	}
}
func ProtectLast(v bool) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status { return C.gisp_prune_config_set_protect_last(c, C.bool(v)) }
}
func BatchSize(v int) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status {
		return C.gisp_prune_config_set_batch_size(c, C.int32_t(v))
	}
}
func Compact(v bool) Option {
	return func(c *C.gisp_prune_config) *C.gisp_status { return C.gisp_prune_config_set_compact(c, C.bool(v)) }
}

// NewPruneConfig applies options to the defaults; the first rejected value is returned as an
// *Error naming the option.
func NewPruneConfig(options ...Option) (*PruneConfig, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	var p *C.gisp_prune_config
	if err := check(C.gisp_prune_config_create(&p)); err != nil {
		return nil, err
	}
	c := &PruneConfig{p}
	runtime.SetFinalizer(c, (*PruneConfig).Close)
	if err := c.Set(options...); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Set applies more options.
func (c *PruneConfig) Set(options ...Option) error {
	for _, o := range options {
		err := check(o(c.p))
		runtime.KeepAlive(c)
		if err != nil {
			return err
		}
	}
	return nil
}

// JSON is the configuration as the record stores it.
func (c *PruneConfig) JSON() (string, error) {
	var s *C.char
	err := check(C.gisp_prune_config_to_json(c.p, &s))
	runtime.KeepAlive(c)
	if err != nil {
		return "", err
	}
	return takeString(s), nil
}

// SparsityRange is known before a run on the dense model m: the dense model's own decoder
// sparsity (its norm weights count, so it is above 0; a record's sparsities start there) and the
// highest sparsity a run with this configuration can reach.
func (c *PruneConfig) SparsityRange(m *Model) (dense, reachable float64, err error) {
	var d, r C.double
	err = check(C.gisp_prune_config_sparsity_range(c.p, m.p, &d, &r))
	runtime.KeepAlive(c)
	runtime.KeepAlive(m)
	return float64(d), float64(r), err
}

// Close frees the configuration. Safe to call more than once.
func (c *PruneConfig) Close() {
	if c.p != nil {
		C.gisp_prune_config_free(c.p)
		c.p = nil
		runtime.SetFinalizer(c, nil)
	}
}
