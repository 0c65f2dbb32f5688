package otelbearer

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/otelbearer/otelbearer/internal/otlptest"
	"github.com/otelbearer/otelbearer/internal/redact"
)

// wireTP returns a TracerProvider exporting through the real OTLP gRPC
// exporter (no retries) to rcv, with the redacting processor when r is not
// nil.
func wireTP(t *testing.T, rcv *otlptest.Receiver, r *Redactor) *sdktrace.TracerProvider {
	t.Helper()
	exp, err := otlptracegrpc.New(t.Context(), otlptracegrpc.WithEndpoint(rcv.Addr()),
		otlptracegrpc.WithInsecure(), otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	require.NoError(t, err)
	var p sdktrace.SpanProcessor = sdktrace.NewBatchSpanProcessor(exp)
	if r != nil {
		p = NewRedactingSpanProcessor(p, r)
	}
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewSpanProcessor()), sdktrace.WithSpanProcessor(p))
}

// wireProviders returns providers exporting to rcv through the real OTLP
// gRPC exporters, with the stamping span processor and no redactor.
func wireProviders(t *testing.T, rcv *otlptest.Receiver) (*sdktrace.TracerProvider, *sdklog.LoggerProvider) {
	t.Helper()
	texp, err := otlptracegrpc.New(t.Context(), otlptracegrpc.WithEndpoint(rcv.Addr()), otlptracegrpc.WithInsecure())
	require.NoError(t, err)
	lexp, err := otlploggrpc.New(t.Context(), otlploggrpc.WithEndpoint(rcv.Addr()), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	return sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(NewSpanProcessor()), sdktrace.WithBatcher(texp)),
		sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(lexp)))
}

// wireSpans returns every span the receiver got.
func wireSpans(rcv *otlptest.Receiver) []*tracepb.Span {
	var out []*tracepb.Span
	for _, req := range rcv.Traces() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				out = append(out, ss.GetSpans()...)
			}
		}
	}
	return out
}

func wireAttr(sp *tracepb.Span, key string) (*commonpb.AnyValue, bool) {
	for _, kv := range sp.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue(), true
		}
	}
	return nil, false
}

// Operator rules and the default coverage, checked on the bytes an OTLP
// receiver got: without redaction every canary is there (the test plants
// them), with it none is.
func TestRedactWireCoverage(t *testing.T) {
	r := newTestRedactor(t, WithSensitiveKeys("authz.reason"))
	attrs := []attribute.KeyValue{
		attribute.String("auth.password", "c4n4ryW01"),
		attribute.String("authz.api_key", "c4n4ryW02"),
		attribute.String("authz.reason", "c4n4ryW03"), // the operator names our key
		attribute.String("accessToken", "c4n4ryW04"),
		attribute.String("app.db_password", "c4n4ryW05"),
		attribute.String("db.connection_string", "Server=db;Password=c4n4ryW06;Database=x"),
		attribute.String("msg", "Authorization: Token c4n4ryW07"),
		attribute.String("msg2", `Digest username="u", response="c4n4ryW08"`),
		attribute.String("msg3", "AWS4-HMAC-SHA256 Credential=AKID/x, SignedHeaders=host, Signature=c4n4ryW09"),
		attribute.String("url.full", "https://h/?access%5Ftoken=c4n4ryW10&return_to=%2Fcb%3Faccess_token%3Dc4n4ryW11"),
		attribute.String("dump", "GET / HTTP/1.1\r\nCookie: a=c4n4ryW12; b=c4n4ryW13\r\nX-Auth-Token: c4n4ryW14\r\n"),
		attribute.String("env", "AWS_SECRET_ACCESS_KEY=c4n4ryW15"),
		attribute.StringSlice("http.request.header.ocp-apim-subscription-key", []string{"c4n4ryW16"}),
		attribute.StringSlice("rpc.grpc.request.metadata.authorization", []string{"Bearer c4n4ryW17"}),
		attribute.String("body", `{"clientSecret":"c4n4ryW18","refresh-token":"c4n4ryW19"}`),
		attribute.String("neg", "Negotiate YIIc4n4ryW20"),
		AuthEventAttr(AuthTokenValid),
		TokenFingerprint(testFP),
	}
	for _, on := range []bool{false, true} {
		rcv := otlptest.Start(t)
		var red *Redactor
		if on {
			red = r
		}
		tp := wireTP(t, rcv, red)
		_, span := tp.Tracer("t").Start(t.Context(), "op")
		span.SetAttributes(attrs...)
		span.End()
		require.NoError(t, tp.Shutdown(t.Context()))
		require.Equal(t, 1, rcv.SpanCount())
		for i := 1; i <= 20; i++ {
			c := "c4n4ryW" + string(rune('0'+i/10)) + string(rune('0'+i%10))
			assert.Equal(t, !on, rcv.Contains(c), "%s (redaction on: %v)", c, on)
		}
		assert.True(t, rcv.Contains(testFP), "our fingerprint passes")
		assert.True(t, rcv.Contains("token_valid"), "our event passes")
	}
}

// One request with invalid UTF-8 in its path (GET /%ff) or its User-Agent
// makes the OTLP exporter fail to marshal the whole batch: every span of
// it is lost. With the redacting processor every span arrives and the bad
// ones carry redaction.sanitized.
func TestRedactWireInvalidUTF8(t *testing.T) {
	for _, on := range []bool{false, true} {
		rcv := otlptest.Start(t)
		var r *Redactor
		if on {
			r = newTestRedactor(t)
		}
		tp := wireTP(t, rcv, r)
		// Spans as an instrumentation that copies request bytes verbatim
		// records them (otelbearer's own middleware cleans url.path and
		// user_agent.original at the source, see TestWireValidUTF8).
		paths := []string{"/ok/1", "/\xff", "/ok/2", "/ua", "/ok/3"}
		for _, p := range paths {
			_, span := tp.Tracer("t").Start(t.Context(), "GET")
			span.SetAttributes(attribute.String("url.path", p))
			if p == "/ua" {
				span.SetAttributes(attribute.String("user_agent.original", "curl/\xff\xfe"))
			}
			span.End()
		}
		require.NoError(t, tp.Shutdown(t.Context()))
		if !on {
			assert.Zero(t, rcv.SpanCount(), "without sanitizing the whole batch is lost")
			continue
		}
		spans := wireSpans(rcv)
		require.Len(t, spans, len(paths), "every span arrives")
		marked := 0
		for _, sp := range spans {
			for _, kv := range sp.GetAttributes() {
				assert.True(t, utf8.ValidString(kv.GetValue().GetStringValue()), kv.GetKey())
			}
			if v, ok := wireAttr(sp, string(RedactionSanitizedKey)); ok {
				marked++
				assert.Equal(t, int64(1), v.GetIntValue())
			}
		}
		assert.Equal(t, 2, marked, "the /%%ff span and the User-Agent span")
	}
}

// Five spans with ~900 KB paths make one export over the receiver's 4 MiB
// message limit (the Collector's default): the whole batch is refused.
// Bounded, all five arrive, cut to the value bound and marked.
func TestRedactWireBounds(t *testing.T) {
	long := "/" + strings.Repeat("p", 900<<10)
	for _, on := range []bool{false, true} {
		rcv := otlptest.Start(t)
		var r *Redactor
		if on {
			r = newTestRedactor(t)
		}
		tp := wireTP(t, rcv, r)
		for range 5 {
			_, span := tp.Tracer("t").Start(t.Context(), "GET /{path}")
			span.SetAttributes(attribute.String("url.path", long), TokenFingerprint(testFP))
			span.End()
		}
		require.NoError(t, tp.Shutdown(t.Context()))
		if !on {
			assert.Zero(t, rcv.SpanCount(), "without bounds the receiver refuses the batch")
			continue
		}
		require.True(t, rcv.WaitSpans(5, 5*time.Second))
		for _, sp := range wireSpans(rcv) {
			v, _ := wireAttr(sp, "url.path")
			assert.Len(t, v.GetStringValue(), redact.DefaultMaxValueBytes)
			n, _ := wireAttr(sp, string(RedactionSanitizedKey))
			assert.Equal(t, int64(1), n.GetIntValue())
			fp, _ := wireAttr(sp, string(TokenFingerprintKey))
			assert.Equal(t, testFP, fp.GetStringValue())
		}
	}
}
