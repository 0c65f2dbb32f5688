package validatortest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/otelbearer/otelbearer"
)

// Run runs every check of the package documentation against the
// validators newValidator returns, each check a subtest of t with a
// validator of its own (so a cache or a failed key fetch of one check
// does not decide another). mint issues the tokens.
func Run(t *testing.T, newValidator func(*testing.T) otelbearer.Validator, mint MintFunc, opts ...Option) {
	t.Helper()
	s := &suite{cfg: newConfig(opts), mint: mint, newValidator: func(r runner) otelbearer.Validator {
		return newValidator(r.(tRunner).t)
	}}
	s.run(tRunner{t})
}

// Check runs every check of the package documentation against the
// validators newValidator returns, without a [testing.T], and returns nil
// or an error listing each failed check ("name/sub: what") on a line.
// Checks mint cannot serve are skipped silently.
func Check(newValidator func() otelbearer.Validator, mint MintFunc, opts ...Option) error {
	fs := collect(newValidator, mint, opts...)
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = errors.New(f.String())
	}
	return errors.Join(errs...)
}

// failure is one failed check.
type failure struct{ name, msg string }

func (f failure) String() string { return f.name + ": " + f.msg }

// collect runs the checks and returns the failures in order.
func collect(newValidator func() otelbearer.Validator, mint MintFunc, opts ...Option) []failure {
	st := &collectState{}
	s := &suite{cfg: newConfig(opts), mint: mint,
		newValidator: func(runner) otelbearer.Validator { return newValidator() }}
	s.run(&collector{st: st})
	return st.fails
}

// runner is what the checks need of a test: *testing.T through tRunner,
// or a collector for Check and for the kit's own tests.
type runner interface {
	Helper()
	Errorf(format string, args ...any)
	// Skipf marks the check skipped; the caller returns right after.
	Skipf(format string, args ...any)
	Run(name string, f func(runner))
	Context() context.Context
}

type tRunner struct{ t *testing.T }

func (r tRunner) Helper()                      { r.t.Helper() }
func (r tRunner) Errorf(f string, args ...any) { r.t.Helper(); r.t.Errorf(f, args...) }
func (r tRunner) Skipf(f string, args ...any)  { r.t.Helper(); r.t.Skipf(f, args...) }
func (r tRunner) Context() context.Context     { return r.t.Context() }
func (r tRunner) Run(name string, f func(runner)) {
	r.t.Run(name, func(t *testing.T) { f(tRunner{t}) })
}

type collectState struct {
	mu    sync.Mutex
	fails []failure
}

// collector records failures under the path of the running check. Its
// Errorf is safe for concurrent use.
type collector struct {
	st   *collectState
	name string
}

func (c *collector) Helper()                  {}
func (c *collector) Skipf(string, ...any)     {}
func (c *collector) Context() context.Context { return context.Background() }

func (c *collector) Errorf(f string, args ...any) {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	c.st.fails = append(c.st.fails, failure{c.name, fmt.Sprintf(f, args...)})
}

func (c *collector) Run(name string, f func(runner)) {
	if c.name != "" {
		name = c.name + "/" + name
	}
	f(&collector{st: c.st, name: name})
}
