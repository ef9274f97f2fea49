package gisp

/*
#include <stdint.h>
#include <stdlib.h>
#include <gisp/gisp.h>
extern void gispGoLog(gisp_log_level level, char* message, void* user);
static gisp_status* gisp_go_context_set_log(gisp_context* c, int min_level, uintptr_t handle) {
  return gisp_context_set_log_callback(c, (gisp_log_fn)gispGoLog, (gisp_log_level)min_level,
                                       (void*)handle);
}
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"runtime/cgo"
)

// CancelToken is a flag any goroutine may raise to stop the gisp calls that watch it (the
// calls on models whose Context holds it). A cancelled call returns an *Error with code
// Cancelled, every output complete or absent.
type CancelToken struct{ p *C.gisp_cancel_token }

// NewCancelToken creates a lowered token.
func NewCancelToken() (*CancelToken, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	var p *C.gisp_cancel_token
	if err := check(C.gisp_cancel_token_create(&p)); err != nil {
		return nil, err
	}
	t := &CancelToken{p}
	runtime.SetFinalizer(t, (*CancelToken).Close)
	return t, nil
}

// Close frees this reference; contexts and models holding the token keep it alive.
func (t *CancelToken) Close() {
	if t.p != nil {
		C.gisp_cancel_token_free(t.p)
		t.p = nil
		runtime.SetFinalizer(t, nil)
	}
}

// Cancel raises the flag. Safe from any goroutine, any number of times.
func (t *CancelToken) Cancel() {
	C.gisp_cancel_token_cancel(t.p)
	runtime.KeepAlive(t)
}

// Reset lowers the flag so the token can serve the next job.
func (t *CancelToken) Reset() {
	C.gisp_cancel_token_reset(t.p)
	runtime.KeepAlive(t)
}

// IsCancelled reports whether the flag is raised.
func (t *CancelToken) IsCancelled() bool {
	v := bool(C.gisp_cancel_token_is_cancelled(t.p))
	runtime.KeepAlive(t)
	return v
}

// logSink owns the cgo.Handle a C context carries as log user data. It is referenced by every
// Go object whose C side may call the function (contexts, models, calibration data), and its
// finalizer deletes the handle once none is left.
type logSink struct{ h cgo.Handle }

func newLogSink(fn LogFunc) *logSink {
	s := &logSink{cgo.NewHandle(fn)}
	runtime.SetFinalizer(s, func(s *logSink) { s.h.Delete() })
	return s
}

// contextSettings mirrors what a C gisp_context holds, so the binding can rebuild it (the C
// API copies contexts into models and has no getters).
type contextSettings struct {
	set      bool // a context was given (false: none, the process defaults)
	threads  int32
	budget   int64
	log      *logSink
	logLevel LogLevel
	token    *CancelToken
	comm     *commOps // the collectives of a communicator (nil: none)
}

// build creates a C context with these settings; the caller frees it.
func (s *contextSettings) build() (*C.gisp_context, error) {
	var c *C.gisp_context
	if err := check(C.gisp_context_create(&c)); err != nil {
		return nil, err
	}
	err := check(C.gisp_context_set_num_threads(c, C.int32_t(s.threads)))
	if err == nil {
		err = check(C.gisp_context_set_memory_budget(c, C.int64_t(s.budget)))
	}
	if err == nil && s.log != nil {
		err = check(C.gisp_go_context_set_log(c, C.int(s.logLevel), C.uintptr_t(s.log.h)))
	}
	if err == nil && s.token != nil {
		err = check(C.gisp_context_set_cancel_token(c, s.token.p))
		runtime.KeepAlive(s.token)
	}
	if err == nil && s.comm != nil {
		var comm *C.gisp_communicator
		if comm, err = s.comm.build(); err == nil {
			err = check(C.gisp_context_set_communicator(c, comm))
			C.gisp_communicator_free(comm)
		}
	}
	if err != nil {
		C.gisp_context_free(c)
		return nil, err
	}
	return c, nil
}

// Context holds the resources a host grants gisp: threads, a memory budget, a log function and
// a cancel token. Models copy it when loaded with it (LoadOptions.SetContext) or given it
// (Model.SetContext); later changes to the Context do not reach them.
type Context struct {
	p *C.gisp_context
	s contextSettings
}

// NewContext creates a context with the defaults (OpenMP's threads, automatic memory sizing,
// the process-wide log function, no cancel token).
func NewContext() (*Context, error) {
	if err := checkABI(); err != nil {
		return nil, err
	}
	var p *C.gisp_context
	if err := check(C.gisp_context_create(&p)); err != nil {
		return nil, err
	}
	c := &Context{p: p, s: contextSettings{set: true, logLevel: LogInfo}}
	runtime.SetFinalizer(c, (*Context).Close)
	return c, nil
}

// Close frees the context; models keep their own copies.
func (c *Context) Close() {
	if c.p != nil {
		C.gisp_context_free(c.p)
		c.p = nil
		c.s = contextSettings{}
		runtime.SetFinalizer(c, nil)
	}
}

// SetNumThreads sets the threads gisp's calls may use (n >= 1; 0 restores the default).
func (c *Context) SetNumThreads(n int) error {
	err := check(C.gisp_context_set_num_threads(c.p, C.int32_t(n)))
	runtime.KeepAlive(c)
	if err == nil {
		c.s.threads = int32(n)
	}
	return err
}

// NumThreads is the thread count calls under c use (its setting, or the default).
func (c *Context) NumThreads() int {
	n := int(C.gisp_context_num_threads(c.p))
	runtime.KeepAlive(c)
	return n
}

// DefaultNumThreads is the thread count calls without a context use.
func DefaultNumThreads() int { return int(C.gisp_context_num_threads(nil)) }

// SetMemoryBudget sets the bytes gisp may use for activations and working buffers beyond the
// weights and gradient buffers (0: automatic).
func (c *Context) SetMemoryBudget(bytes int64) error {
	err := check(C.gisp_context_set_memory_budget(c.p, C.int64_t(bytes)))
	runtime.KeepAlive(c)
	if err == nil {
		c.s.budget = bytes
	}
	return err
}

// SetLogFunc sends the log messages of calls under this context to fn (nil: the process-wide
// function of SetLogCallback). Messages below minLevel are dropped. fn is called on the thread
// making the gisp call.
func (c *Context) SetLogFunc(fn LogFunc, minLevel LogLevel) error {
	var sink *logSink
	var err error
	if fn == nil {
		err = check(C.gisp_context_set_log_callback(c.p, nil, C.gisp_log_level(minLevel), nil))
	} else {
		sink = newLogSink(fn)
		err = check(C.gisp_go_context_set_log(c.p, C.int(minLevel), C.uintptr_t(sink.h)))
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(sink)
	if err == nil {
		c.s.log, c.s.logLevel = sink, minLevel
	}
	return err
}

// SetCancelToken makes calls under this context stop when t is raised (nil: none). The context
// holds its own reference to the token.
func (c *Context) SetCancelToken(t *CancelToken) error {
	var p *C.gisp_cancel_token
	if t != nil {
		p = t.p
	}
	err := check(C.gisp_context_set_cancel_token(c.p, p))
	runtime.KeepAlive(c)
	runtime.KeepAlive(t)
	if err == nil {
		c.s.token = t
	}
	return err
}

// CancelToken is the token set with SetCancelToken (nil: none).
func (c *Context) CancelToken() *CancelToken { return c.s.token }

// cancelled is the error of a call that ctx stopped: gisp's Cancelled status (or a new one when
// the call did not start) wrapping ctx.Err().
func cancelled(err error, ctx context.Context) error {
	cause := ctx.Err()
	if cause == nil {
		return err
	}
	if err == nil {
		return &Error{Code: Cancelled, Message: "not started: the context is done", Cause: cause}
	}
	var e *Error
	if errors.As(err, &e) && e.Code == Cancelled && e.Cause == nil {
		e.Cause = cause
	}
	return err
}

// watcher raises a cancel token when a context.Context is done while a gisp call runs.
type watcher struct {
	ctx    context.Context
	token  *CancelToken
	reset  bool // lower the token afterwards if we raised it (the binding's own token)
	stop   chan struct{}
	exited chan struct{}
	raised bool
}

// watch starts watching ctx for a call whose C side stops when token is raised. A ctx that can
// never be done needs no goroutine. finish must be called when the call returns.
func watch(ctx context.Context, token *CancelToken, own bool) *watcher {
	w := &watcher{ctx: ctx, token: token, reset: own}
	if ctx.Done() == nil || token == nil {
		return w
	}
	w.stop, w.exited = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(w.exited)
		select {
		case <-ctx.Done():
			token.Cancel()
			w.raised = true
		case <-w.stop:
		}
	}()
	return w
}

// finish stops the goroutine (waiting for it to exit), lowers the binding's own token if it
// raised it, and wraps ctx.Err() into a Cancelled error.
func (w *watcher) finish(err error) error {
	if w.stop != nil {
		close(w.stop)
		<-w.exited
		if w.raised && w.reset {
			w.token.Reset()
		}
	}
	if err != nil {
		return cancelled(err, w.ctx)
	}
	return nil
}

// watch prepares a long call on m: it fails at once when ctx is already done, otherwise makes
// sure m has a cancel token (creating the binding's own when ctx can be done and m's context
// has none) and watches ctx.
func (m *Model) watch(ctx context.Context) (*watcher, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if ctx.Err() != nil {
		return nil, cancelled(nil, ctx)
	}
	if ctx.Done() == nil {
		return &watcher{ctx: ctx}, nil
	}
	if err := m.ensureToken(); err != nil {
		return nil, err
	}
	return watch(ctx, m.s.token, m.ownToken), nil
}

// ensureToken gives m a context with the binding's own cancel token (and m's other settings)
// when m's context has no token.
func (m *Model) ensureToken() error {
	if m.s.token != nil {
		return nil
	}
	t, err := NewCancelToken()
	if err != nil {
		return err
	}
	s := m.s
	s.set, s.token = true, t
	if !m.s.set {
		s.logLevel = LogInfo
	}
	c, err := s.build()
	if err != nil {
		return err
	}
	defer C.gisp_context_free(c)
	if err := check(C.gisp_model_set_context(m.p, c)); err != nil {
		return err
	}
	runtime.KeepAlive(m)
	m.s, m.ownToken = s, true
	return nil
}

// SetContext makes every later call on m (and on calibration data built from it and its
// pruner) run under a copy of c's settings (nil: none, the process defaults). Not while another
// goroutine is inside a call on m.
func (m *Model) SetContext(c *Context) error {
	var p *C.gisp_context
	s := contextSettings{}
	if c != nil {
		p, s = c.p, c.s
	}
	err := check(C.gisp_model_set_context(m.p, p))
	runtime.KeepAlive(m)
	runtime.KeepAlive(c)
	if err == nil {
		m.s, m.ownToken = s, false
	}
	return err
}

// CancelToken is the token of m's context: the one of the Context m was given, or the one the
// binding created to honour a context.Context; nil when m has none yet.
func (m *Model) CancelToken() *CancelToken { return m.s.token }
