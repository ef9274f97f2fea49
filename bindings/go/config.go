package gisp

/*
#include <gisp/gisp.h>
*/
import "C"

import "runtime"

// Objective, Normalization and GQAUnit mirror the C enums.
type Objective int
type Normalization int
type GQAUnit int

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

// Close frees the configuration. Safe to call more than once.
func (c *PruneConfig) Close() {
	if c.p != nil {
		C.gisp_prune_config_free(c.p)
		c.p = nil
		runtime.SetFinalizer(c, nil)
	}
}
