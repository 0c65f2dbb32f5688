package otelbearer

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer/internal/otlptest"
)

// Canaries planted in every slot of a span. Each sits in a shape one rule
// must catch; none may reach the wire when redaction is on.
var redactCanaries = []string{
	"c4n4ryAttrPw", "c4n4ryHdrTok", "c4n4ryCookie", "c4n4ryApiKeyHdr", "c4n4ryMapSecret",
	"c4n4rySliceTok", "c4n4ryBytesPw", "c4n4ryNameCode", "c4n4ryStatusTok", "c4n4ryUrlErr",
	"c4n4ryPanic", "c4n4ryEventName", "c4n4ryEventAttr", "c4n4ryLink", "c4n4ryResource",
	"c4n4ryScope", "c4n4ryJwtPayload", "c4n4ryOtelhttp", "c4n4ryDialFail", "c4n4ryUserinfo",
	"AKIAC4N4RYAWSKEY0001",
}

type redactWiring func(exp sdktrace.SpanExporter, r *Redactor) sdktrace.TracerProviderOption

func TestRedactEndToEndOTLP(t *testing.T) {
	r := newTestRedactor(t, WithRedactionSummary(true))
	tests := []struct {
		name   string
		wire   redactWiring
		redact bool
	}{
		{"processor", func(exp sdktrace.SpanExporter, r *Redactor) sdktrace.TracerProviderOption {
			return sdktrace.WithSpanProcessor(NewRedactingSpanProcessor(sdktrace.NewBatchSpanProcessor(exp), r))
		}, true},
		{"exporter", func(exp sdktrace.SpanExporter, r *Redactor) sdktrace.TracerProviderOption {
			return sdktrace.WithBatcher(NewRedactingExporter(exp, r))
		}, true},
		{"off", func(exp sdktrace.SpanExporter, _ *Redactor) sdktrace.TracerProviderOption {
			return sdktrace.WithBatcher(exp)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv := otlptest.Start(t)
			exp, err := otlptracegrpc.New(t.Context(),
				otlptracegrpc.WithEndpoint(rcv.Addr()), otlptracegrpc.WithInsecure())
			require.NoError(t, err)
			res := resource.NewWithAttributes("",
				attribute.String("service.name", "redact-e2e"),
				attribute.String("deployment.secret", "c4n4ryResource"))
			tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), tt.wire(exp, r))
			emitCanarySpans(t, tp)
			require.NoError(t, tp.Shutdown(t.Context()))
			require.True(t, rcv.WaitSpans(5, 5*time.Second), "spans received: %d", rcv.SpanCount())

			wire := rcv.Bytes()
			for _, c := range redactCanaries {
				found := strings.Contains(string(wire), c)
				if tt.redact {
					assert.False(t, found, "canary %s leaked to the wire", c)
				} else {
					assert.True(t, found, "canary %s not planted: the test proves nothing", c)
				}
			}
			urlFull := receivedAttr(rcv, "url.full")
			require.NotEmpty(t, urlFull)
			for _, u := range urlFull {
				if tt.redact {
					assert.Contains(t, u, "access_token=REDACTED", "otelhttp's url.full")
				} else {
					assert.NotContains(t, u, "REDACTED")
				}
			}
			if tt.redact {
				assert.NotEmpty(t, receivedAttr(rcv, "redaction.count"))
				assert.Contains(t, string(wire), "Bearer REDACTED")
				assert.Contains(t, string(wire), testFP, "our fingerprint passes untouched")
			}
		})
	}
}

// receivedAttr returns the string form of every span attribute named key.
func receivedAttr(rcv *otlptest.Receiver, key string) []string {
	var out []string
	for _, req := range rcv.Traces() {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					for _, kv := range sp.GetAttributes() {
						if kv.GetKey() == key {
							out = append(out, kv.GetValue().String())
						}
					}
				}
			}
		}
	}
	return out
}

func emitCanarySpans(t *testing.T, tp *sdktrace.TracerProvider) {
	t.Helper()
	ctx := t.Context()
	tracer := tp.Tracer("redact-e2e",
		trace.WithInstrumentationAttributes(attribute.String("api_key", "c4n4ryScope")))

	_, linked := tracer.Start(ctx, "linked")
	linked.End()

	_, span := tracer.Start(ctx, "GET /cb?code=c4n4ryNameCode",
		trace.WithLinks(trace.Link{
			SpanContext: linked.SpanContext(),
			Attributes:  []attribute.KeyValue{attribute.String("auth_token", "c4n4ryLink")},
		}))
	span.SetAttributes(
		TokenFingerprint(testFP),
		attribute.String("db.password", "c4n4ryAttrPw"),
		attribute.StringSlice("http.request.header.authorization", []string{"Bearer c4n4ryHdrTok"}),
		attribute.StringSlice("http.request.header.cookie", []string{"sid=c4n4ryCookie"}),
		attribute.StringSlice("http.request.header.x-api-key", []string{"c4n4ryApiKeyHdr"}),
		attribute.Map("request", attribute.String("client_secret", "c4n4ryMapSecret"),
			attribute.Slice("list", attribute.StringValue("access_token=c4n4rySliceTok"))),
		attribute.ByteSlice("body", []byte("user=bob&password=c4n4ryBytesPw")),
		attribute.String("note", "saw eyJhbGciOiJub25lIn0.c4n4ryJwtPayload and AKIAC4N4RYAWSKEY0001"),
		attribute.String("upstream", "https://bob:c4n4ryUserinfo@example.com/"),
	)
	span.AddEvent("retry with Bearer c4n4ryEventName",
		trace.WithAttributes(attribute.String("exception.message", "password=c4n4ryEventAttr")))
	span.RecordError(&url.Error{Op: "Get", URL: "http://h/x?access_token=c4n4ryUrlErr", Err: errors.New("dial tcp: connection refused")})
	span.SetStatus(codes.Error, "upstream rejected Bearer c4n4ryStatusTok")
	span.End()

	// span.End during a panic: the SDK records the panic value in an event.
	func() {
		defer func() { _ = recover() }()
		_, sp := tracer.Start(ctx, "panicky")
		defer sp.End()
		panic("login failed password=c4n4ryPanic")
	}()

	// otelhttp's Transport: url.full keeps the query; a failed request puts
	// the *url.Error (URL included) in the status description.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: otelhttp.NewTransport(base,
		otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{}))}
	resp, err := client.Get(srv.URL + "/x?access_token=c4n4ryOtelhttp&page=2")
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, err = client.Get(deadURL + "/x?access_token=c4n4ryDialFail")
	require.Error(t, err)
}
