package setup

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric/noop"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

// BenchmarkEmit emits an audit-sized record through the SDK's batch
// processor and through the pipeline's processor, both exporting to a
// discarding exporter: one goroutine, then parallel goroutines.
func BenchmarkEmit(b *testing.B) {
	ours, err := newLogProcessor(discardExporter{}, newConfig(nil).logs, noop.NewMeterProvider())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		p    sdklog.Processor
	}{
		{"sdk-batch", sdklog.NewBatchProcessor(discardExporter{})},
		{"setup", ours},
	} {
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(bc.p))
		logger := lp.Logger("bench")
		var rec log.Record
		rec.SetEventName("otelbearer.authn")
		rec.SetBody(attribute.StringValue("authentication result: token_valid"))
		for i := range 16 {
			rec.AddAttributes(attribute.String(string(rune('a'+i))+".key", "some value of a typical length"))
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				logger.Emit(context.Background(), rec)
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					logger.Emit(context.Background(), rec)
				}
			})
		})
		_ = lp.Shutdown(context.Background())
	}
}
