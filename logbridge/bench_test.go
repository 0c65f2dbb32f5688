package logbridge_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/logbridge"
)

// BenchmarkHandler logs one record with a request context through a JSON
// handler to io.Discard, bare and wrapped by logbridge.
func BenchmarkHandler(b *testing.B) {
	ctx := requestContext(b)
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"bare", slog.NewJSONHandler(io.Discard, nil)},
		{"logbridge", logbridge.NewHandler(slog.NewJSONHandler(io.Discard, nil))},
	} {
		logger := slog.New(bc.h)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logger.InfoContext(ctx, "loaded item", "item.id", "42", "count", 3, "elapsed", time.Millisecond)
			}
		})
		if bc.name == "bare" {
			// The same output as logbridge's, written by hand: what the extra
			// attributes cost the JSON handler, apart from logbridge itself.
			b.Run("bare+same-attrs", func(b *testing.B) {
				stamped := otelbearer.Attributes(ctx)
				b.ReportAllocs()
				for b.Loop() {
					logger.InfoContext(ctx, "loaded item",
						string(stamped[0].Key), stamped[0].Value.AsString(),
						string(stamped[1].Key), stamped[1].Value.AsString(),
						string(stamped[2].Key), stamped[2].Value.AsString(),
						string(stamped[3].Key), stamped[3].Value.AsString(),
						"item.id", "42", "count", 3, "elapsed", time.Millisecond)
				}
			})
		}
		// A composite value: encoded by reflection when bare, converted to
		// its redacted JSON form by logbridge.
		b.Run(bc.name+"/struct", func(b *testing.B) {
			tok := &benchToken{AccessToken: "opaque-access-token-value", TokenType: "Bearer", Expiry: time.Unix(1893456000, 0).UTC(), Scopes: []string{"items:read"}}
			b.ReportAllocs()
			for b.Loop() {
				logger.InfoContext(ctx, "refreshed", "oauth", tok, "count", 3)
			}
		})
		b.Run(bc.name+"/group", func(b *testing.B) {
			l := logger.WithGroup("app").With("component", "items")
			b.ReportAllocs()
			for b.Loop() {
				l.InfoContext(ctx, "loaded item", "item.id", "42", "count", 3)
			}
		})
	}
}

// benchToken is an *oauth2.Token-like value.
type benchToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Expiry      time.Time `json:"expiry"`
	Scopes      []string  `json:"scopes"`
}

// discard is an sdk/log Processor that drops every record.
type discard struct{}

func (discard) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (discard) OnEmit(context.Context, *sdklog.Record) error           { return nil }
func (discard) Shutdown(context.Context) error                         { return nil }
func (discard) ForceFlush(context.Context) error                       { return nil }

// BenchmarkProcessor emits one record with a request context through an
// SDK LoggerProvider, bare and with logbridge.NewProcessor.
func BenchmarkProcessor(b *testing.B) {
	ctx := requestContext(b)
	for _, bc := range []struct {
		name string
		p    sdklog.Processor
	}{
		{"bare", discard{}},
		{"logbridge", logbridge.NewProcessor(discard{})},
	} {
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(bc.p))
		logger := lp.Logger("bench")
		var rec log.Record
		rec.SetBody(attribute.StringValue("loaded item"))
		rec.SetSeverity(log.SeverityInfo)
		rec.AddAttributes(attribute.String("item.id", "42"), attribute.Int("count", 3))
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logger.Emit(ctx, rec)
			}
		})
		_ = lp.Shutdown(context.Background())
	}
}
