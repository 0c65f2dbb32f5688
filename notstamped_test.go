package otelbearer

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The "register NewSpanProcessor" warning is for a TracerProvider without
// our span processor, not for one shut down while requests are still
// served (its processors, ours included, are gone, but otelhttp's tracer
// keeps starting spans).
func TestNotStampedWarning(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ours     bool // NewSpanProcessor registered
		shutDown bool // the provider is shut down before the request
		warn     bool
	}{
		{name: "processor missing", warn: true},
		{name: "processor registered", ours: true},
		{name: "provider shut down", ours: true, shutDown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnNotStamped = sync.Once{}
			errs := captureOtelErrors(t)
			var opts []sdktrace.TracerProviderOption
			if tc.ours {
				opts = append(opts, sdktrace.WithSpanProcessor(NewSpanProcessor()))
			}
			opts = append(opts, sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(discard{})))
			tp := sdktrace.NewTracerProvider(opts...)
			h := NewHandler(http.NotFoundHandler(), "api", WithFingerprintKey(testKey), WithTracerProvider(tp))
			if tc.shutDown {
				require.NoError(t, tp.Shutdown(t.Context()))
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+tokAlice)
			h.ServeHTTP(httptest.NewRecorder(), r)
			warned := false
			for _, e := range errs.all() {
				warned = warned || strings.Contains(e, "NewSpanProcessor")
			}
			assert.Equal(t, tc.warn, warned, "%q", errs.all())
			_ = tp.Shutdown(t.Context())
		})
	}
}
