package otelbearer

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestNewRedactorBoundErrors(t *testing.T) {
	for name, opts := range map[string][]RedactOption{
		"zero value":        {WithMaxValueBytes(0)},
		"negative value":    {WithMaxValueBytes(-1)},
		"tiny value":        {WithMaxValueBytes(100)},
		"huge value":        {WithMaxValueBytes(1 << 30)},
		"tiny record":       {WithMaxRecordBytes(255)},
		"value over record": {WithMaxValueBytes(8 << 10), WithMaxRecordBytes(4 << 10)},
	} {
		t.Run(name, func(t *testing.T) {
			r, err := NewRedactor(opts...)
			assert.Nil(t, r)
			assert.True(t, errors.Is(err, errRedactConfig), "%v", err)
		})
	}
	r, err := NewRedactor(WithMaxRecordBytes(4 << 10)) // the value bound follows
	require.NoError(t, err)
	assert.Equal(t, 4<<10, r.maxValue)
	assert.Equal(t, 4<<10, r.MaxRecordBytes())
}

func TestRedactValueBound(t *testing.T) {
	r := newTestRedactor(t, WithMaxValueBytes(256))
	long := strings.Repeat("é", 200) // 400 bytes: the cut falls inside a rune
	got, changed := r.String("msg", long)
	assert.True(t, changed)
	assert.LessOrEqual(t, len(got), 256)
	assert.True(t, utf8.ValidString(got))
	again, changed := r.String("msg", got)
	assert.Equal(t, got, again)
	assert.False(t, changed)

	// A credential that straddles the cut is redacted before the cut.
	got, _ = r.String("msg", strings.Repeat("x", 250)+" Bearer c4n4ryCut")
	assert.NotContains(t, got, "c4n")
	got, _ = r.String("msg", strings.Repeat("x", 250)+" https://u:c4n4ryCut@h/")
	assert.NotContains(t, got, "c4n")
}

// Invalid UTF-8 anywhere in a span (keys included) is replaced, and the
// span says how many strings were changed so.
func TestRedactSpanInvalidUTF8(t *testing.T) {
	r := newTestRedactor(t)
	const bad = "x\xffy"
	stub := tracetest.SpanStub{
		Name: "GET /" + bad,
		Attributes: []attribute.KeyValue{
			attribute.String("url.path", bad),
			attribute.String("k"+bad, "v"),
			attribute.StringSlice("list", []string{"ok", bad}),
			attribute.Map("m", attribute.String("inner", bad), attribute.Slice("s", attribute.StringValue(bad))),
			attribute.ByteSlice("raw", []byte(bad)), // bytes go as bytes: left alone
			TokenFingerprint(testFP),
		},
		Status:   sdktrace.Status{Code: codes.Error, Description: bad},
		Events:   []sdktrace.Event{{Name: bad, Attributes: []attribute.KeyValue{attribute.String("e", bad)}}},
		Links:    []sdktrace.Link{{Attributes: []attribute.KeyValue{attribute.String("l", bad)}}},
		Resource: resource.NewSchemaless(attribute.String("service.name", bad)),
		InstrumentationScope: instrumentation.Scope{Name: "s" + bad, Version: bad,
			Attributes: attribute.NewSet(attribute.String("a", bad))},
	}
	span := stub.Snapshot()
	got := r.Span(span)
	valid := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			assert.True(t, utf8.ValidString(string(kv.Key)), "key %q", kv.Key)
			if kv.Value.Type() != attribute.BYTESLICE {
				assert.True(t, utf8.ValidString(kv.Value.String()), "%s=%q", kv.Key, kv.Value.String())
			}
		}
	}
	assert.True(t, utf8.ValidString(got.Name()))
	assert.True(t, utf8.ValidString(got.Status().Description))
	valid(got.Attributes())
	valid(got.Events()[0].Attributes)
	assert.True(t, utf8.ValidString(got.Events()[0].Name))
	valid(got.Links()[0].Attributes)
	valid(got.Resource().Attributes())
	scopeAttrs := got.InstrumentationScope().Attributes
	valid(scopeAttrs.ToSlice())
	assert.True(t, utf8.ValidString(got.InstrumentationScope().Name))
	assert.True(t, utf8.ValidString(got.InstrumentationScope().Version))
	gotSet := attribute.NewSet(got.Attributes()...)
	v, ok := gotSet.Value(RedactionSanitizedKey)
	require.True(t, ok)
	// name, url.path, key, list, inner, s, status, event name, event attr,
	// link attr, resource, scope name, scope version, scope attr.
	assert.Equal(t, int64(14), v.AsInt64())
	raw, _ := gotSet.Value("raw")
	assert.Equal(t, bad, string(raw.AsByteSlice()), "bytes untouched")
	assert.Equal(t, span.Name(), "GET /"+bad, "snapshot untouched")
	assert.Equal(t, got, r.Span(got), "stable under a second pass")
}

// Over the record bound, the longest values are cut to a common length
// and the short ones, our own among them, stay whole.
func TestRedactSpanRecordBound(t *testing.T) {
	r := newTestRedactor(t)
	attrs := []attribute.KeyValue{TokenFingerprint(testFP), AuthEventAttr(AuthTokenValid)}
	for i := range 20 {
		attrs = append(attrs, attribute.String("big."+string(rune('a'+i)), strings.Repeat("v", 8<<10)))
	}
	ev := []sdktrace.Event{{Name: "e", Attributes: []attribute.KeyValue{attribute.String("ev", strings.Repeat("w", 8<<10))}}}
	span := tracetest.SpanStub{Name: "op", Attributes: attrs, Events: ev}.Snapshot()
	got := r.Span(span)
	total := len(got.Name())
	for _, kv := range got.Attributes() {
		total += len(kv.Key) + len(kv.Value.AsString())
	}
	for _, e := range got.Events() {
		total += len(e.Name)
		for _, kv := range e.Attributes {
			total += len(kv.Key) + len(kv.Value.AsString())
		}
	}
	assert.LessOrEqual(t, total, DefaultMaxRecordBytes)
	assert.Greater(t, total, DefaultMaxRecordBytes-1024, "the bound is used, not wasted")
	set := attribute.NewSet(got.Attributes()...)
	fp, _ := set.Value(TokenFingerprintKey)
	assert.Equal(t, testFP, fp.AsString())
	n, _ := set.Value(RedactionSanitizedKey)
	assert.Equal(t, int64(21), n.AsInt64())
	assert.Len(t, span.Attributes()[2].Value.AsString(), 8<<10, "snapshot untouched")
	assert.Equal(t, got, r.Span(got), "stable under a second pass")
}

// Userinfo of any length is caught, and a URL authority that the value
// window cuts off before its '@' is replaced whole.
func TestRedactLongUserinfo(t *testing.T) {
	r := newTestRedactor(t)
	long := strings.Repeat("N", 1500)
	got, _ := r.String("url.full", "https://user:"+long+"@h/")
	assert.Equal(t, "https://REDACTED:REDACTED@h/", got)
	huge := "x https://user:" + strings.Repeat("N", 20<<10) + "@h/"
	got, _ = r.String("url.full", huge)
	assert.NotContains(t, got, "NNNN")
	assert.Equal(t, "x https://REDACTED", got)
}

func TestRedactKeyASCII(t *testing.T) {
	r := newTestRedactor(t)
	for _, key := range []string{"abcdefg\xff", "abcdefgh\xffij", "a\xc3", "0123456789abcdef\x80"} {
		kv, changed := r.KeyValue(attribute.Int(key, 1))
		assert.True(t, changed, "%q", key)
		assert.True(t, utf8.ValidString(string(kv.Key)), "%q", kv.Key)
	}
	for _, key := range []string{"", "a", "abcdefgh", "http.request.method", "ключ.значение"} {
		_, changed := r.KeyValue(attribute.Int(key, 1))
		assert.False(t, changed, "%q", key)
	}
}
