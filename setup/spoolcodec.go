package setup

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/trace"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"
)

// A spooled batch is an OTLP LogsData message: the same shape the
// exporter puts on the wire, with each record's resource and scope.
// Replay cannot hand an exporter an sdklog.Record with a given resource
// (the SDK sets it only through a LoggerProvider), so a replayer re-emits
// the decoded records through a LoggerProvider built with the spooled
// resource, with no limits and no processor but one that collects them,
// and exports those records directly.

// encodeBatch serialises recs as an OTLP LogsData message.
func encodeBatch(recs []sdklog.Record) ([]byte, error) {
	var data logspb.LogsData
	var rl *logspb.ResourceLogs
	var sl *logspb.ScopeLogs
	var lastRes *resource.Resource
	var lastScope string
	for i := range recs {
		r := &recs[i]
		if rl == nil || r.Resource() != lastRes {
			lastRes, sl = r.Resource(), nil
			rl = &logspb.ResourceLogs{Resource: &resourcepb.Resource{Attributes: kvsToPB(lastRes.Attributes())}, SchemaUrl: lastRes.SchemaURL()}
			data.ResourceLogs = append(data.ResourceLogs, rl)
		}
		scope := r.InstrumentationScope()
		key := scope.Name + "\x00" + scope.Version + "\x00" + scope.SchemaURL + "\x00" + scope.Attributes.Encoded(attribute.DefaultEncoder())
		if sl == nil || key != lastScope {
			lastScope = key
			sl = &logspb.ScopeLogs{
				Scope: &commonpb.InstrumentationScope{
					Name: scope.Name, Version: scope.Version,
					Attributes: kvsToPB(scope.Attributes.ToSlice()),
				},
				SchemaUrl: scope.SchemaURL,
			}
			rl.ScopeLogs = append(rl.ScopeLogs, sl)
		}
		sl.LogRecords = append(sl.LogRecords, recordToPB(r))
	}
	return proto.Marshal(&data)
}

func recordToPB(r *sdklog.Record) *logspb.LogRecord {
	pb := &logspb.LogRecord{
		TimeUnixNano:           unixNano(r.Timestamp()),
		ObservedTimeUnixNano:   unixNano(r.ObservedTimestamp()),
		SeverityNumber:         logspb.SeverityNumber(r.Severity()), // #nosec G115 -- 0..24
		SeverityText:           r.SeverityText(),
		Attributes:             make([]*commonpb.KeyValue, 0, r.AttributesLen()),
		DroppedAttributesCount: uint32(r.DroppedAttributes()), // #nosec G115 -- a count
		Flags:                  uint32(r.TraceFlags()),
		EventName:              r.EventName(),
	}
	if body := r.Body(); body.Type() != attribute.EMPTY {
		pb.Body = valueToPB(body)
	}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		pb.Attributes = append(pb.Attributes, &commonpb.KeyValue{Key: string(kv.Key), Value: valueToPB(kv.Value)})
		return true
	})
	if tid := r.TraceID(); tid.IsValid() {
		pb.TraceId = tid[:]
	}
	if sid := r.SpanID(); sid.IsValid() {
		pb.SpanId = sid[:]
	}
	return pb
}

func unixNano(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano()) // #nosec G115 -- times after 1970
}

func kvsToPB(kvs []attribute.KeyValue) []*commonpb.KeyValue {
	out := make([]*commonpb.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, &commonpb.KeyValue{Key: string(kv.Key), Value: valueToPB(kv.Value)})
	}
	return out
}

func valueToPB(v attribute.Value) *commonpb.AnyValue {
	switch v.Type() {
	case attribute.BOOL:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: v.AsBool()}}
	case attribute.INT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v.AsInt64()}}
	case attribute.FLOAT64:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: v.AsFloat64()}}
	case attribute.STRING:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v.AsString()}}
	case attribute.BYTESLICE:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: v.AsByteSlice()}}
	case attribute.BOOLSLICE:
		return arrayPB(v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		return arrayPB(v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		return arrayPB(v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		return arrayPB(v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		return arrayPB(v.AsSlice(), func(v attribute.Value) attribute.Value { return v })
	case attribute.MAP:
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: kvsToPB(v.AsMap())}}}
	}
	return &commonpb.AnyValue{}
}

func arrayPB[T any](s []T, conv func(T) attribute.Value) *commonpb.AnyValue {
	vals := make([]*commonpb.AnyValue, 0, len(s))
	for _, e := range s {
		vals = append(vals, valueToPB(conv(e)))
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: vals}}}
}

func kvsFromPB(kvs []*commonpb.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(kvs))
	for _, kv := range kvs {
		out = append(out, attribute.KeyValue{Key: attribute.Key(kv.GetKey()), Value: valueFromPB(kv.GetValue())})
	}
	return out
}

// valueFromPB reverses valueToPB. An array of strings becomes a string
// slice (token.scopes), other arrays a SLICE; both encode alike on the
// wire.
func valueFromPB(v *commonpb.AnyValue) attribute.Value {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_BoolValue:
		return attribute.BoolValue(x.BoolValue)
	case *commonpb.AnyValue_IntValue:
		return attribute.Int64Value(x.IntValue)
	case *commonpb.AnyValue_DoubleValue:
		return attribute.Float64Value(x.DoubleValue)
	case *commonpb.AnyValue_StringValue:
		return attribute.StringValue(x.StringValue)
	case *commonpb.AnyValue_BytesValue:
		return attribute.ByteSliceValue(x.BytesValue)
	case *commonpb.AnyValue_KvlistValue:
		return attribute.MapValue(kvsFromPB(x.KvlistValue.GetValues())...)
	case *commonpb.AnyValue_ArrayValue:
		vals := x.ArrayValue.GetValues()
		strs := make([]string, 0, len(vals))
		for _, e := range vals {
			s, ok := e.GetValue().(*commonpb.AnyValue_StringValue)
			if !ok {
				break
			}
			strs = append(strs, s.StringValue)
		}
		if len(strs) == len(vals) && len(vals) > 0 {
			return attribute.StringSliceValue(strs)
		}
		out := make([]attribute.Value, 0, len(vals))
		for _, e := range vals {
			out = append(out, valueFromPB(e))
		}
		return attribute.SliceValue(out...)
	}
	return attribute.Value{}
}

// replayer turns spooled batches back into sdklog.Records.
type replayer struct {
	providers map[string]*sdklog.LoggerProvider // by resource
	sink      *collector
}

func newReplayer() *replayer {
	return &replayer{providers: map[string]*sdklog.LoggerProvider{}, sink: &collector{}}
}

// decode returns the records of a spooled batch, with their resource,
// scope, trace context and timestamps. It is not safe for concurrent use.
func (rp *replayer) decode(b []byte) ([]sdklog.Record, error) {
	var data logspb.LogsData
	if err := proto.Unmarshal(b, &data); err != nil {
		return nil, fmt.Errorf("decode spooled batch: %w", err)
	}
	rp.sink.recs = nil
	for _, rl := range data.GetResourceLogs() {
		lp := rp.provider(rl.GetSchemaUrl(), kvsFromPB(rl.GetResource().GetAttributes()))
		for _, sl := range rl.GetScopeLogs() {
			sc := sl.GetScope()
			logger := lp.Logger(sc.GetName(), log.WithInstrumentationVersion(sc.GetVersion()),
				log.WithSchemaURL(sl.GetSchemaUrl()), log.WithInstrumentationAttributes(kvsFromPB(sc.GetAttributes())...))
			for _, pb := range sl.GetLogRecords() {
				logger.Emit(spanContext(pb), recordFromPB(pb))
			}
		}
	}
	recs := rp.sink.recs
	rp.sink.recs = nil
	return recs, nil
}

func (rp *replayer) provider(schema string, attrs []attribute.KeyValue) *sdklog.LoggerProvider {
	set := attribute.NewSet(attrs...)
	key := schema + "\x00" + set.Encoded(attribute.DefaultEncoder())
	lp, ok := rp.providers[key]
	if !ok {
		lp = sdklog.NewLoggerProvider(
			sdklog.WithResource(resource.NewWithAttributes(schema, attrs...)),
			sdklog.WithProcessor(rp.sink),
			sdklog.WithAttributeCountLimit(-1),
			sdklog.WithAttributeValueLengthLimit(-1),
			sdklog.WithAttributeValueDepthLimit(-1),
			sdklog.WithAllowKeyDuplication(), // the spooled record was deduplicated already
		)
		rp.providers[key] = lp
	}
	return lp
}

func spanContext(pb *logspb.LogRecord) context.Context {
	var cfg trace.SpanContextConfig
	copy(cfg.TraceID[:], pb.GetTraceId())
	copy(cfg.SpanID[:], pb.GetSpanId())
	cfg.TraceFlags = trace.TraceFlags(pb.GetFlags() & 0xff) // #nosec G115 -- masked
	sc := trace.NewSpanContext(cfg)
	if !sc.IsValid() {
		return context.Background()
	}
	return trace.ContextWithSpanContext(context.Background(), sc)
}

func recordFromPB(pb *logspb.LogRecord) log.Record {
	var r log.Record
	if t := pb.GetTimeUnixNano(); t != 0 {
		r.SetTimestamp(time.Unix(0, int64(t))) // #nosec G115 -- written by unixNano
	}
	if t := pb.GetObservedTimeUnixNano(); t != 0 {
		r.SetObservedTimestamp(time.Unix(0, int64(t))) // #nosec G115 -- written by unixNano
	}
	r.SetSeverity(log.Severity(pb.GetSeverityNumber())) // #nosec G115 -- 0..24
	r.SetSeverityText(pb.GetSeverityText())
	r.SetEventName(pb.GetEventName())
	if pb.GetBody() != nil {
		r.SetBody(valueFromPB(pb.GetBody()))
	}
	r.AddAttributes(kvsFromPB(pb.GetAttributes())...)
	return r
}

// collector is the replay providers' only processor: it keeps a copy of
// every record emitted.
type collector struct{ recs []sdklog.Record }

func (c *collector) OnEmit(_ context.Context, r *sdklog.Record) error {
	c.recs = append(c.recs, r.Clone())
	return nil
}
func (*collector) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }
func (*collector) Shutdown(context.Context) error                         { return nil }
func (*collector) ForceFlush(context.Context) error                       { return nil }
