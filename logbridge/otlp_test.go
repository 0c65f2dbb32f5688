package logbridge_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/logbridge"
)

// pipeline is a LoggerProvider exporting through the real otlploggrpc
// exporter into an in-process receiver, and a TracerProvider stamping
// spans (nothing exported).
type pipeline struct {
	rcv *otlptest.Receiver
	lp  *sdklog.LoggerProvider
	tp  *sdktrace.TracerProvider
}

// newPipeline builds a pipeline; with bridge the batch processor is wrapped
// by logbridge.NewProcessor.
func newPipeline(t *testing.T, bridge bool, sampler sdktrace.Sampler) *pipeline {
	t.Helper()
	rcv := otlptest.Start(t)
	exp, err := otlploggrpc.New(t.Context(), otlploggrpc.WithEndpoint(rcv.Addr()), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	var proc sdklog.Processor = sdklog.NewBatchProcessor(exp, sdklog.WithExportInterval(50*time.Millisecond))
	if bridge {
		proc = logbridge.NewProcessor(proc)
	}
	p := &pipeline{
		rcv: rcv,
		lp:  sdklog.NewLoggerProvider(sdklog.WithProcessor(proc)),
		tp: sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler),
			sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor())),
	}
	t.Cleanup(func() { p.shutdown(t) })
	return p
}

// options are the otelbearer options that send telemetry to p.
func (p *pipeline) options() []otelbearer.Option {
	return []otelbearer.Option{
		otelbearer.WithLoggerProvider(p.lp),
		otelbearer.WithTracerProvider(p.tp),
	}
}

// shutdown flushes everything to the receiver; it is safe to call twice.
func (p *pipeline) shutdown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	assert.NoError(t, p.tp.Shutdown(ctx))
	assert.NoError(t, p.lp.Shutdown(ctx))
}

// records returns every log record received.
func (p *pipeline) records() []*logspb.LogRecord {
	var out []*logspb.LogRecord
	for _, req := range p.rcv.Logs() {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				out = append(out, sl.GetLogRecords()...)
			}
		}
	}
	return out
}

// attrs flattens a record's top-level attributes; it fails on a duplicate
// key.
func attrs(t *testing.T, r *logspb.LogRecord) map[string]any {
	t.Helper()
	m := make(map[string]any, len(r.GetAttributes()))
	for _, kv := range r.GetAttributes() {
		_, dup := m[kv.GetKey()]
		require.False(t, dup, "duplicate key %q", kv.GetKey())
		m[kv.GetKey()] = anyValue(kv.GetValue())
	}
	return m
}

func anyValue(v *commonpb.AnyValue) any {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return x.IntValue
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue
	}
	return v.String()
}

func TestOTLPApplicationRecordStamped(t *testing.T) {
	tests := []struct {
		name   string
		bridge bool // logbridge.Processor around the batch processor
		logger func(lp *sdklog.LoggerProvider) *slog.Logger
	}{
		{"otelslog + Processor", true, func(lp *sdklog.LoggerProvider) *slog.Logger {
			return slog.New(otelslog.NewHandler("app", otelslog.WithLoggerProvider(lp)))
		}},
		{"Handler over otelslog", false, func(lp *sdklog.LoggerProvider) *slog.Logger {
			return slog.New(logbridge.NewHandler(otelslog.NewHandler("app", otelslog.WithLoggerProvider(lp))))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, tt.bridge, sdktrace.AlwaysSample())
			logger := tt.logger(p.lp)
			var traceID trace.TraceID
			code := serve(t, "Bearer "+tokGood, "/items/1", func(w http.ResponseWriter, r *http.Request) {
				traceID = trace.SpanContextFromContext(r.Context()).TraceID()
				otelbearer.Allow(r.Context(), "owner", "item/1")
				logger.WithGroup("app").InfoContext(r.Context(), "loaded item", "item", 1)
			}, p.options()...)
			require.Equal(t, http.StatusOK, code)
			p.shutdown(t)

			var got *logspb.LogRecord
			for _, r := range p.records() {
				if r.GetBody().GetStringValue() == "loaded item" {
					got = r
				}
			}
			require.NotNil(t, got, "application record not received")
			a := attrs(t, got)
			assert.Equal(t, fingerprint(tokGood), a["token.fingerprint"])
			assert.Equal(t, "token_valid", a["auth.event"])
			assert.Equal(t, "allow", a["authz.decision"])
			assert.Equal(t, "alice", a["user.id"])
			assert.Contains(t, a, "app", "caller's group kept")
			assert.Equal(t, hex.EncodeToString(traceID[:]), hex.EncodeToString(got.GetTraceId()))
		})
	}
}

func TestOTLPAuditSurvivesSampling(t *testing.T) {
	p := newPipeline(t, true, sdktrace.NeverSample())
	tests := []struct {
		name, auth, event string
		status            int
		deny              bool
	}{
		{"missing", "", "token_missing", http.StatusUnauthorized, false},
		{"malformed", "Bearer ", "token_malformed", http.StatusBadRequest, false},
		{"invalid", "Bearer " + tokBad, "token_invalid", http.StatusUnauthorized, false},
		{"expired", "Bearer " + tokExpired, "token_expired", http.StatusUnauthorized, false},
		{"revoked", "Bearer " + tokRevoked, "token_revoked", http.StatusUnauthorized, false},
		{"deny", "Bearer " + tokGood, "token_valid", http.StatusForbidden, true},
	}
	for _, tt := range tests {
		code := serve(t, tt.auth, "/items/"+tt.name, func(w http.ResponseWriter, r *http.Request) {
			if tt.deny {
				otelbearer.Deny(r.Context(), "not_owner", "item/2")
				w.WriteHeader(http.StatusForbidden)
			}
		}, p.options()...)
		require.Equal(t, tt.status, code, tt.name)
	}
	p.shutdown(t)

	byPath := map[string]map[string]any{}
	var authz []map[string]any
	for _, r := range p.records() {
		a := attrs(t, r)
		switch r.GetEventName() {
		case otelbearer.AuditEventAuthn:
			byPath[a["url.path"].(string)] = a
			if a["auth.event"] != "token_valid" {
				assert.Equal(t, logspb.SeverityNumber_SEVERITY_NUMBER_WARN, r.GetSeverityNumber(), a["url.path"])
			}
		case otelbearer.AuditEventAuthz:
			authz = append(authz, a)
			assert.Equal(t, logspb.SeverityNumber_SEVERITY_NUMBER_WARN, r.GetSeverityNumber())
			assert.NotEmpty(t, r.GetTraceId(), "audit record keeps the (unsampled) trace id")
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ok := byPath["/items/"+tt.name]
			require.True(t, ok, "no authn audit record")
			assert.Equal(t, tt.event, a["auth.event"])
			assert.Equal(t, int64(tt.status), a["http.response.status_code"])
			assert.Equal(t, http.MethodGet, a["http.request.method"])
			assert.NotEmpty(t, a["client.address"])
			if tok, ok := tokenOf(tt.auth); ok {
				assert.Equal(t, fingerprint(tok), a["token.fingerprint"])
			} else {
				assert.NotContains(t, a, "token.fingerprint")
			}
			if tt.deny {
				assert.Equal(t, "deny", a["authz.decision"])
			}
		})
	}
	require.Len(t, authz, 1)
	assert.Equal(t, "deny", authz[0]["authz.decision"])
	assert.Equal(t, "not_owner", authz[0]["authz.reason"])
	assert.Equal(t, "item/2", authz[0]["authz.resource"])
	assert.Equal(t, fingerprint(tokGood), authz[0]["token.fingerprint"])
}

// tokenOf returns the token of a well-formed "Bearer x" header.
func tokenOf(auth string) (string, bool) {
	if len(auth) > len("Bearer ") {
		return auth[len("Bearer "):], true
	}
	return "", false
}

func TestOTLPCanariesNeverArrive(t *testing.T) {
	const c = "cnryOTLP"
	reqTok := tokGood
	u, err := url.Parse("https://svc.example/cb?access_token=" + c + "Query1")
	require.NoError(t, err)
	plant := func(l *slog.Logger, r *http.Request) {
		ctx := r.Context()
		l.InfoContext(ctx, "retrying with Authorization: Bearer "+c+"Msg1")
		l.InfoContext(ctx, "m", "authorization", "Bearer "+c+"Attr1", "password", c+"Attr2")
		l.InfoContext(ctx, "m", slog.Group("req", slog.String("api_key", c+"Group1")))
		l.WithGroup("g").With("secret", c+"With1").InfoContext(ctx, "m", "headers", r.Header)
		l.InfoContext(ctx, "m", "h", http.Header{"X-Auth-Token": {c + "Header1"}})
		l.InfoContext(ctx, "m", "err", fmt.Errorf("GET %s: refused", u), "url", u)
		l.InfoContext(ctx, "m", "raw", []byte("Authorization: Bearer "+c+"Bytes1"))
	}
	canaries := []string{c + "Msg1", c + "Attr1", c + "Attr2", c + "Group1", c + "With1",
		c + "Header1", c + "Query1", c + "Bytes1", reqTok}
	tests := []struct {
		name          string
		bridge        bool
		handler, leak bool
	}{
		{"without logbridge", false, false, true},
		{"Processor", true, false, false},
		{"Handler", false, true, false},
		{"both", true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipeline(t, tt.bridge, sdktrace.AlwaysSample())
			var h slog.Handler = otelslog.NewHandler("app", otelslog.WithLoggerProvider(p.lp))
			if tt.handler {
				h = logbridge.NewHandler(h)
			}
			serve(t, "Bearer "+reqTok, "/p", func(_ http.ResponseWriter, r *http.Request) {
				plant(slog.New(h), r)
			}, p.options()...)
			p.shutdown(t)
			require.GreaterOrEqual(t, p.rcv.LogCount(), 8)
			for _, s := range canaries {
				assert.Equal(t, tt.leak, p.rcv.Contains(s), s)
			}
		})
	}
}
