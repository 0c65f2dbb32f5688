package logbridge

import (
	"sync"

	"go.opentelemetry.io/otel"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/redact"
)

// Option configures [NewHandler] and [NewProcessor].
type Option interface {
	apply(config) config
}

type optFunc func(config) config

func (f optFunc) apply(c config) config { return f(c) }

type config struct {
	redactor *redact.Redactor // the engine of the *otelbearer.Redactor
}

// WithRedactor sets the Redactor whose rules are applied to messages,
// bodies and attributes. The default is otelbearer.NewRedactor() with its
// default rules. A nil r is ignored; to share custom rules with the span
// pipeline, pass the same *Redactor to both.
func WithRedactor(r *otelbearer.Redactor) Option {
	return optFunc(func(c config) config {
		if r != nil {
			c.redactor = redact.Unwrap(r)
		}
		return c
	})
}

// defaultRedactor is built once: NewRedactor without options cannot fail,
// but if it ever does the error goes to otel.Handle and nothing is redacted
// rather than panicking on the logging path.
var defaultRedactor = sync.OnceValue(func() *redact.Redactor {
	r, err := otelbearer.NewRedactor()
	if err != nil {
		otel.Handle(err)
	}
	return redact.Unwrap(r)
})

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			c = o.apply(c)
		}
	}
	if c.redactor == nil {
		c.redactor = defaultRedactor()
	}
	return c
}
