package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer/internal/stack"
)

// carrier is one place a plain service (no otelbearer) puts a credential:
// an attribute (string or string slice) or a log body, holding planted
// canaries. The Collector must deliver the item with every canary gone
// and marker in the same place.
type carrier struct {
	name    string
	key     string   // attribute key; "" for a log body
	str     string   // string value (str or slice)
	slice   []string // string-slice value (header and metadata attributes)
	bodyMap map[string]string
	marker  string   // what the value must contain after the Collector
	secrets []string // the canaries planted in the value
}

// plainCarriers builds the carriers with fresh canaries. A canary is a
// random hex string that cannot occur anywhere else.
func plainCarriers() []carrier {
	c := func() string { return "cnry" + randHex(8) }
	short := "c8" + randHex(3) // a bearer token of 8 characters
	amzCred, amzTok, amzSig := c(), c(), c()
	pw, pw2, pw3, dbpw, ck, sc, md, md2, pt, vt, st, body1, body2, jsonpw, mapSecret := c(), c(), c(), c(), c(), c(), c(), c(), c(), c(), c(), c(), c(), c(), c()
	presigned := "https://bucket.s3.eu-west-1.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=ASIA" + amzCred + "%2F20260101%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z" +
		"&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Security-Token=" + amzTok + "&X-Amz-Signature=" + amzSig
	return []carrier{
		{name: "grpc-metadata-authorization", key: "rpc.grpc.request.metadata.authorization", slice: []string{"Bearer " + md}, marker: "****", secrets: []string{md}},
		{name: "grpc-metadata-x-api-token", key: "rpc.grpc.request.metadata.x-api-token", slice: []string{md2}, marker: "****", secrets: []string{md2}},
		{name: "header-private-token", key: "http.request.header.private-token", slice: []string{pt}, marker: "****", secrets: []string{pt}},
		{name: "header-x-vault-token", key: "http.request.header.x-vault-token", slice: []string{"hvs." + vt}, marker: "****", secrets: []string{vt}},
		{name: "header-cookie", key: "http.request.header.cookie", slice: []string{"theme=dark; session=" + ck}, marker: "****", secrets: []string{ck}},
		{name: "header-set-cookie", key: "http.response.header.set-cookie", slice: []string{"sid=" + sc + "; HttpOnly; Secure"}, marker: "****", secrets: []string{sc}},
		{name: "header-authorization-8-chars", key: "http.request.header.authorization", slice: []string{"Bearer " + short}, marker: "****", secrets: []string{short}},
		{name: "bearer-8-chars-in-text", key: "error.message", str: "upstream refused Authorization: Bearer " + short + " (401)", marker: "Bearer REDACTED (401)", secrets: []string{short}},
		{name: "connection-string", key: "db.connection_string", str: "Server=db;Database=app;User Id=svc;Password=" + pw + ";", marker: "Password=REDACTED;", secrets: []string{pw}},
		{name: "libpq-dsn", key: "db.connection_string", str: "host=db user=svc password=" + pw2 + " dbname=app", marker: "password=REDACTED dbname=app", secrets: []string{pw2}},
		{name: "url-userinfo", key: "server.url", str: "postgres://svc:" + dbpw + "@db:5432/app", marker: "postgres://svc:REDACTED@db:5432/app", secrets: []string{dbpw}},
		{name: "presigned-url", key: "url.full", str: presigned, marker: "X-Amz-SignedHeaders=host&X-Amz-Security-Token=REDACTED&X-Amz-Signature=REDACTED", secrets: []string{amzCred, amzTok, amzSig}},
		{name: "token-query", key: "url.full", str: "https://api.example.com/v1/items?access_token=" + st + "&page=2", marker: "access_token=REDACTED&page=2", secrets: []string{st}},
		{name: "body-password", str: "connect failed: password=" + pw3 + " host=db", marker: "password=REDACTED host=db", secrets: []string{pw3}},
		{name: "body-presigned-url", str: "GET " + presigned + " 403", marker: "X-Amz-Signature=REDACTED 403", secrets: []string{amzCred, amzTok, amzSig}},
		{name: "body-header-line", str: "request headers: X-Vault-Token: " + body1, marker: "X-Vault-Token: REDACTED", secrets: []string{body1}},
		{name: "body-bearer-8-chars", str: "retrying with Bearer " + short + " " + body2, marker: "Bearer REDACTED " + body2, secrets: []string{short}},
		{name: "body-json", str: `{"user":"svc","password":"` + jsonpw + `"}`, marker: `"password":"REDACTED"`, secrets: []string{jsonpw}},
		{name: "body-map", bodyMap: map[string]string{"user": "svc", "client_secret": mapSecret}, marker: "****", secrets: []string{mapSecret}},
	}
}

// ownValues are otelbearer's own attributes and markers: the Collector
// must pass them unchanged.
var ownValues = []struct {
	key   string
	str   string
	slice []string
}{
	{key: "token.fingerprint", str: "0123456789abcdef0123456789abcdef"},
	{key: "auth.event", str: "token_invalid"},
	{key: "http.request.header.authorization", slice: []string{"Bearer REDACTED"}},
	{key: "otelbearer.note", str: "sent Bearer REDACTED with access_token=REDACTED and password=REDACTED"},
}

// plainSend exports one span and one log record per carrier, as a service
// with only the OpenTelemetry SDK would, straight to the Collector.
func plainSend(t *testing.T, endpoint, service string, carriers []carrier) {
	t.Helper()
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", service))
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSyncer(texp))
	lexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(endpoint), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)))
	tracer, logger := tp.Tracer("plain"), lp.Logger("plain")

	for _, c := range carriers {
		attrs := []attribute.KeyValue{attribute.String("case", c.name)}
		for _, o := range ownValues {
			if o.slice != nil {
				attrs = append(attrs, attribute.StringSlice(o.key, o.slice))
			} else {
				attrs = append(attrs, attribute.String(o.key, o.str))
			}
		}
		if c.key != "" {
			if c.slice != nil {
				attrs = append(attrs, attribute.StringSlice(c.key, c.slice))
			} else {
				attrs = append(attrs, attribute.String(c.key, c.str))
			}
		}
		// Status Error: tail sampling keeps the trace at any percentage.
		name := "case " + c.name
		if c.key == "" && c.str != "" {
			name = c.str
		}
		_, span := tracer.Start(ctx, name, trace.WithAttributes(attrs...))
		if c.key == "" { // a log body's text also as span name, status message and exception event
			span.AddEvent("exception", trace.WithAttributes(attribute.String("exception.message", c.str)))
			span.SetStatus(codes.Error, c.str)
		} else {
			span.SetStatus(codes.Error, "failed")
		}
		span.End()

		var rec otellog.Record
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(otellog.SeverityWarn)
		switch {
		case c.bodyMap != nil:
			var kvs []attribute.KeyValue
			for k, v := range c.bodyMap {
				kvs = append(kvs, attribute.String(k, v))
			}
			rec.SetBody(attribute.MapValue(kvs...))
		case c.key == "":
			rec.SetBody(attribute.StringValue(c.str))
		default:
			rec.SetBody(attribute.StringValue("case " + c.name))
		}
		rec.AddAttributes(attrs...)
		logger.Emit(ctx, rec)
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// plainCredentials sends every carrier from a plain OTLP sender through
// the Collector and checks Jaeger and VictoriaLogs: each canary is gone,
// each marker is where the value was, and otelbearer's own attributes and
// REDACTED markers arrive unchanged.
func plainCredentials(t *testing.T, st *stack.Stack) {
	ctx := context.Background()
	service := "plain-e2e-" + randHex(4)
	carriers := plainCarriers()
	var secrets []string
	for _, c := range carriers {
		secrets = append(secrets, c.secrets...)
	}
	// The leak check is not vacuous: the raw export, before the
	// Collector, holds each canary.
	for _, c := range carriers {
		raw := c.str + strings.Join(c.slice, " ")
		for _, v := range c.bodyMap {
			raw += v
		}
		for _, s := range c.secrets {
			if !strings.Contains(raw, s) {
				t.Fatalf("%s: canary %s not planted", c.name, s)
			}
		}
	}
	plainSend(t, st.CollectorOTLPEndpoint(), service, carriers)

	var spans map[string]stack.Span
	var rawTraces []byte
	eventually(t, 20*time.Second, func() string {
		traces, raw, err := stack.JaegerTraces(ctx, st.JaegerURL(), service, nil)
		if err != nil {
			return err.Error()
		}
		rawTraces, spans = raw, map[string]stack.Span{}
		for _, tr := range traces {
			for _, s := range tr.Spans {
				spans[s.Tag("case")] = s
			}
		}
		if len(spans) < len(carriers) {
			return fmt.Sprintf("Jaeger has %d of %d spans of %s", len(spans), len(carriers), service)
		}
		return ""
	})
	var rows map[string]map[string]any
	var rawLogs []byte
	eventually(t, 20*time.Second, func() string {
		got, raw, err := stack.LogsQL(ctx, st.VictoriaLogsURL(), `service.name:="`+service+`"`)
		if err != nil {
			return err.Error()
		}
		rawLogs, rows = raw, map[string]map[string]any{}
		for _, r := range got {
			name, _ := r["case"].(string)
			rows[name] = r
		}
		if len(rows) < len(carriers) {
			return fmt.Sprintf("VictoriaLogs has %d of %d records of %s", len(rows), len(carriers), service)
		}
		return ""
	})

	for _, where := range []struct {
		name string
		raw  []byte
	}{{"Jaeger", rawTraces}, {"VictoriaLogs", rawLogs}} {
		for _, s := range secrets {
			if i := strings.Index(string(where.raw), s); i >= 0 {
				lo, hi := max(0, i-120), min(len(where.raw), i+len(s)+20)
				t.Errorf("LEAK in %s: canary %s: …%s…", where.name, s, where.raw[lo:hi])
			}
		}
	}
	for _, c := range carriers {
		span, row := spans[c.name], rows[c.name]
		var inSpan, inLog string
		if c.key != "" {
			inSpan, inLog = span.Tag(c.key), fmt.Sprint(row[c.key])
		} else {
			inSpan, inLog = span.Tag("otel.status_description"), fmt.Sprint(row["_msg"])
			if c.bodyMap != nil {
				b, _ := json.Marshal(row)
				inSpan, inLog = "****", string(b) // only the log record carries a map body
			}
		}
		if !strings.Contains(inSpan, c.marker) {
			t.Errorf("%s: Jaeger span %s = %q, want it to contain %q", c.name, c.key, inSpan, c.marker)
		}
		if !strings.Contains(inLog, c.marker) {
			t.Errorf("%s: VictoriaLogs record %s = %q, want it to contain %q", c.name, c.key, inLog, c.marker)
		}
		for _, o := range ownValues {
			if o.key == c.key {
				continue
			}
			want := o.str
			if o.slice != nil {
				b, _ := json.Marshal(o.slice)
				want = string(b)
			}
			if got := span.Tag(o.key); got != want {
				t.Errorf("%s: own attribute %s changed in Jaeger: %q, want %q", c.name, o.key, got, want)
			}
			if got := fmt.Sprint(row[o.key]); got != want {
				t.Errorf("%s: own attribute %s changed in VictoriaLogs: %q, want %q", c.name, o.key, got, want)
			}
		}
	}
	t.Logf("%d carriers, %d canaries: none reached Jaeger (%d bytes) or VictoriaLogs (%d bytes)", len(carriers), len(secrets), len(rawTraces), len(rawLogs))
}
