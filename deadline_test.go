package otelbearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.uber.org/goleak"
)

// faultToken is the credential of the fault tests; it must appear nowhere.
const faultToken = "c4n4ry.fault.token"

// errorRecorder captures what reaches otel.Handle while a test runs.
type errorRecorder struct {
	mu   sync.Mutex
	errs []string
}

func (e *errorRecorder) Handle(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err.Error())
}

func (e *errorRecorder) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.errs...)
}

// captureOtelErrors routes otel.Handle to a recorder for the test.
func captureOtelErrors(t *testing.T) *errorRecorder {
	rec := &errorRecorder{}
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(rec)
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	return rec
}

// authnRecord returns the request's single AuditEventAuthn record.
func authnRecord(t *testing.T, h *harness) sdklog.Record {
	t.Helper()
	var out []sdklog.Record
	for _, r := range h.logs.records() {
		if r.EventName() == AuditEventAuthn {
			out = append(out, r)
		}
	}
	require.Len(t, out, 1, "one authn record per request")
	return out[0]
}

// serverSpan returns the request's server span (the last one to end).
func serverSpan(t *testing.T, h *harness) sdktrace.ReadOnlySpan {
	t.Helper()
	spans := h.spans.Ended()
	require.NotEmpty(t, spans)
	return spans[len(spans)-1]
}

// A validation that reaches no verdict is token_unverified, 503, a WARN
// audit record and span status Error, never token_invalid; before the
// validator deadline a panic reset the connection and a cancelled or timed
// out validation was recorded as token_invalid.
func TestValidationFaults(t *testing.T) {
	waitCtx := func(ctx context.Context, _ string) (Claims, error) {
		<-ctx.Done()
		return Claims{}, ctx.Err()
	}
	tests := []struct {
		name      string
		validate  ValidatorFunc
		cancelled bool // the client went away before validation
		errorType string
		desc      string
	}{
		{"deadline honoured", waitCtx, false, "validator_timeout", "validator timed out"},
		{"returns DeadlineExceeded", func(context.Context, string) (Claims, error) {
			return Claims{}, fmt.Errorf("introspection: %w", context.DeadlineExceeded)
		}, false, "validator_timeout", "validator timed out"},
		{"returns Canceled", func(context.Context, string) (Claims, error) {
			return Claims{}, fmt.Errorf("introspection: %w", context.Canceled)
		}, false, "validator_canceled", "request canceled during validation"},
		{"client went away", waitCtx, true, "validator_canceled", "request canceled during validation"},
		{"unavailable", func(context.Context, string) (Claims, error) {
			return Claims{}, fmt.Errorf("jwks: %w", ErrValidatorUnavailable)
		}, false, "validator_unavailable", "validator unavailable"},
		{"panic", func(_ context.Context, tok string) (Claims, error) {
			panic("validator bug with " + tok)
		}, false, "validator_panic", "validator panicked"},
		{"panic with an error", func(_ context.Context, tok string) (Claims, error) {
			panic(errors.New("validator bug with " + tok))
		}, false, "validator_panic", "validator panicked"},
		{"Goexit", func(context.Context, string) (Claims, error) {
			runtime.Goexit()
			return Claims{Subject: "never"}, nil
		}, false, "validator_panic", "validator panicked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := captureOtelErrors(t)
			h := newHarness(t)
			called := false
			next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
			handler := NewHandler(next, "api", h.opts(WithValidator(tt.validate),
				WithValidationTimeout(20*time.Millisecond), WithRealm("api"))...)
			r := bearer(get("/"), faultToken)
			if tt.cancelled {
				ctx, cancel := context.WithCancel(r.Context())
				cancel()
				r = r.WithContext(ctx)
			}
			res := serve(handler, r)

			assert.False(t, called, "the handler never runs without a verdict")
			assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
			assert.Equal(t, "5", res.Header.Get("Retry-After"))
			assert.Equal(t, `Bearer realm="api"`, res.Header.Get("WWW-Authenticate"))
			body, _ := io.ReadAll(res.Body)
			assert.Contains(t, string(body), "temporarily_unavailable")

			span := serverSpan(t, h)
			attrs := attrMap(span.Attributes())
			assert.Equal(t, "token_unverified", attrs[AuthEventKey])
			assert.Equal(t, tt.errorType, attrs[errorTypeKey])
			assert.Equal(t, codes.Error, span.Status().Code, "tail sampling keeps errors")
			assert.NotContains(t, attrs, UserIDKey)

			rec := authnRecord(t, h)
			assert.Equal(t, log.SeverityWarn, rec.Severity())
			ra := recordAttrs(rec)
			assert.Equal(t, "token_unverified", ra[AuthEventKey])
			assert.Equal(t, tt.errorType, ra[errorTypeKey])
			assert.Equal(t, "503", ra[httpStatusKey])
			assert.Equal(t, "authentication result: token_unverified: "+tt.desc, rec.Body().AsString())

			wire := fmt.Sprint(res.Header) + string(body) + fmt.Sprint(errs.all())
			assert.NotContains(t, wire, faultToken)
			assert.NotContains(t, wire, "validator bug")
			h.requireAbsent(t, faultToken, "validator bug")
			if tt.errorType == "validator_panic" {
				require.Len(t, errs.all(), 1, "the panic is reported once")
				assert.Contains(t, errs.all()[0], "validator panicked")
			}
		})
	}
}

// In observe-only mode the request goes on; the span keeps the fault's
// fixed description (otelhttp clears it on a 5xx answer).
func TestValidationFaultObserveOnly(t *testing.T) {
	captureOtelErrors(t)
	for _, tt := range []struct {
		name     string
		validate ValidatorFunc
		desc     string
	}{
		{"timeout", func(ctx context.Context, _ string) (Claims, error) { <-ctx.Done(); return Claims{}, ctx.Err() },
			"validator timed out"},
		{"panic", func(_ context.Context, tok string) (Claims, error) { panic("validator bug with " + tok) },
			"validator panicked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				info, _ := FromContext(r.Context())
				assert.Equal(t, AuthTokenUnverified, info.Event)
				_, ok := ClaimsFromContext(r.Context())
				assert.False(t, ok)
			}), "api", h.opts(WithValidator(tt.validate), WithEnforcement(false),
				WithValidationTimeout(20*time.Millisecond))...)
			assert.Equal(t, http.StatusOK, serve(handler, bearer(get("/"), faultToken)).StatusCode)
			span := serverSpan(t, h)
			assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: tt.desc}, span.Status())
			rec := authnRecord(t, h)
			assert.Equal(t, log.SeverityWarn, rec.Severity())
			h.requireAbsent(t, faultToken, "validator bug")
		})
	}
}

// A validator that ignores its context is abandoned at the deadline: the
// request is answered while the validator still runs, and the validator's
// goroutine ends when it returns. Before, the request hung with it.
func TestValidationAbandoned(t *testing.T) {
	h := newHarness(t)
	entered, release := make(chan struct{}), make(chan struct{})
	sawCancel := make(chan bool, 1)
	stuck := ValidatorFunc(func(ctx context.Context, _ string) (Claims, error) {
		close(entered)
		<-release // ignores ctx
		sawCancel <- ctx.Err() != nil
		return Claims{Subject: "late"}, nil
	})
	handler := NewHandler(http.NotFoundHandler(), "api",
		h.opts(WithValidator(stuck), WithValidationTimeout(20*time.Millisecond))...)
	ignore := goleak.IgnoreCurrent()

	res := serve(handler, bearer(get("/"), faultToken))
	<-entered
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "answered while the validator still runs")
	assert.Equal(t, "validator_timeout", attrMap(serverSpan(t, h).Attributes())[errorTypeKey])
	assert.Equal(t, "validator_timeout", recordAttrs(authnRecord(t, h))[errorTypeKey])

	close(release)
	goleak.VerifyNone(t, ignore) // retries until the validator's goroutine has ended
	assert.True(t, <-sawCancel, "the abandoned validator's context is cancelled")
	// Its late verdict changed nothing.
	assert.Equal(t, "token_unverified", attrMap(serverSpan(t, h).Attributes())[AuthEventKey])
	h.requireAbsent(t, faultToken, "late")
}

// Validate always gets a deadline: the default, or the option's.
func TestValidationDeadline(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want time.Duration
	}{
		{"default", nil, defaultValidationTimeout},
		{"zero keeps the default", WithValidationTimeout(0), defaultValidationTimeout},
		{"negative keeps the default", WithValidationTimeout(-time.Second), defaultValidationTimeout},
		{"set", WithValidationTimeout(time.Minute), time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			var left time.Duration
			v := ValidatorFunc(func(ctx context.Context, tok string) (Claims, error) {
				dl, ok := ctx.Deadline()
				require.True(t, ok, "no deadline")
				left = time.Until(dl)
				return testValidator(ctx, tok)
			})
			handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(v), tt.opt)...)
			serve(handler, bearer(get("/"), tokAlice))
			assert.LessOrEqual(t, left, tt.want)
			assert.Greater(t, left, tt.want-time.Second/2)
			assert.Equal(t, "token_valid", attrMap(serverSpan(t, h).Attributes())[AuthEventKey])
		})
	}
}

// A verdict is unchanged by running the validator on its own goroutine:
// spans it starts are children of the server span.
func TestValidationSpansJoinTrace(t *testing.T) {
	h := newHarness(t)
	v := ValidatorFunc(func(ctx context.Context, tok string) (Claims, error) {
		_, span := h.tp.Tracer("t").Start(ctx, "jwks.fetch")
		span.End()
		return testValidator(ctx, tok)
	})
	serve(NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(v))...), bearer(get("/"), tokExpired))
	child, server := h.span(t, "jwks.fetch"), serverSpan(t, h)
	assert.Equal(t, server.SpanContext().SpanID(), child.Parent().SpanID())
	assert.Equal(t, "token_expired", attrMap(server.Attributes())[AuthEventKey])
	assert.NotContains(t, attrMap(server.Attributes()), errorTypeKey, "a verdict is no fault")
	assert.Equal(t, codes.Unset, server.Status().Code)
}

// The fault descriptions and error.type values pass the default redactor
// unchanged.
func TestValidationFaultsSurviveRedaction(t *testing.T) {
	r, err := NewRedactor()
	require.NoError(t, err)
	for _, f := range validationFaults {
		_, changed := r.String("", "authentication result: token_unverified: "+f.desc)
		assert.False(t, changed, f.desc)
		_, changed = r.e.KeyValue(errorTypeKey.String(f.errorType))
		assert.False(t, changed, f.errorType)
	}
}
