package setup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/otelbearer/otelbearer/internal/otlptest"
)

// exportErr exports recs with a real otlploggrpc exporter to rcv and
// returns its error.
func exportErr(t *testing.T, rcv *otlptest.Receiver, recs []sdklog.Record, opts ...otlploggrpc.Option) error {
	t.Helper()
	exp, err := otlploggrpc.New(t.Context(), append([]otlploggrpc.Option{otlploggrpc.WithEndpoint(rcv.Addr()),
		otlploggrpc.WithInsecure(), otlploggrpc.WithTimeout(300 * time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	defer func() { require.NoError(t, exp.Shutdown(context.Background())) }()
	return exp.Export(t.Context(), recs)
}

func body(s string) []sdklog.Record {
	var r sdklog.Record
	r.SetBody(attribute.StringValue(s))
	return []sdklog.Record{r}
}

// TestClassifyExporterErrors classifies the errors the real exporter
// returns, as it wraps them.
func TestClassifyExporterErrors(t *testing.T) {
	big := body(strings.Repeat("x", 4<<10))
	for _, tc := range []struct {
		name string
		rcv  []otlptest.Option
		set  func(*otlptest.Receiver)
		recs []sdklog.Record
		opts []otlploggrpc.Option
		want failure
		msg  string
	}{
		{name: "invalid UTF-8 (client marshaling)", recs: body("bad \xff byte"), want: rejected, msg: "error while marshaling"},
		{name: "over the receiver's limit", rcv: []otlptest.Option{otlptest.WithMaxRecvMsgSize(1 << 10)}, recs: big,
			want: rejected, msg: "received message larger than max"},
		{name: "over the client's send limit", recs: big, want: rejected, msg: "trying to send message larger than max",
			opts: []otlploggrpc.Option{otlploggrpc.WithDialOption(grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(1 << 10)))}},
		{name: "over the exporter's request limit", recs: big, want: rejected, msg: "request message too large",
			opts: []otlploggrpc.Option{otlploggrpc.WithMaxRequestSize(1 << 10)}},
		{name: "InvalidArgument", set: func(r *otlptest.Receiver) { r.SetCode(codes.InvalidArgument) }, want: rejected},
		{name: "Unavailable, after the exporter's retries", set: func(r *otlptest.Receiver) { r.SetUnavailable(true) }, want: transient},
		{name: "Unavailable, retries off", set: func(r *otlptest.Receiver) { r.SetUnavailable(true) }, want: transient,
			opts: []otlploggrpc.Option{otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false})}},
		{name: "Unauthenticated", set: func(r *otlptest.Receiver) { r.SetCode(codes.Unauthenticated) }, want: refused},
		{name: "PermissionDenied", set: func(r *otlptest.Receiver) { r.SetCode(codes.PermissionDenied) }, want: refused},
		{name: "Unimplemented", set: func(r *otlptest.Receiver) { r.SetCode(codes.Unimplemented) }, want: refused},
		{name: "Unknown", set: func(r *otlptest.Receiver) { r.SetCode(codes.Unknown) }, want: transient},
		{name: "receiver gone", set: func(r *otlptest.Receiver) { r.Stop() }, want: transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := otlptest.Start(t, tc.rcv...)
			if tc.set != nil {
				tc.set(rcv)
			}
			recs := tc.recs
			if recs == nil {
				recs = body("ok")
			}
			err := exportErr(t, rcv, recs, tc.opts...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, tc.want, classify(err), "%v", err)
		})
	}
}

// TestClassifyWrapped: the class survives wrapping, and RetryInfo makes
// ResourceExhausted transient.
func TestClassifyWrapped(t *testing.T) {
	throttled := status.New(codes.ResourceExhausted, "slow down").Proto()
	throttled.Details = append(throttled.Details, &anypb.Any{TypeUrl: "type.googleapis.com/google.rpc.RetryInfo"})
	invalid := status.Error(codes.InvalidArgument, "bad record")
	for _, tc := range []struct {
		name string
		err  error
		want failure
	}{
		{"wrapped", fmt.Errorf("export: %w", invalid), rejected},
		{"joined", errors.Join(errors.New("other"), invalid), rejected},
		{"too large, no RetryInfo", status.Error(codes.ResourceExhausted, "grpc: received message larger than max (5 vs. 4)"), rejected},
		{"throttled, RetryInfo", status.FromProto(throttled).Err(), transient},
		{"deadline", fmt.Errorf("%w: %w", context.DeadlineExceeded, status.Error(codes.Unavailable, "down")), transient},
		{"canceled", context.Canceled, transient},
		{"no status", errors.New("connection reset"), transient},
		{"FailedPrecondition", status.Error(codes.FailedPrecondition, "x"), refused},
		{"NotFound", status.Error(codes.NotFound, "x"), refused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, classify(tc.err))
		})
	}
}

func TestSplitParts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{status.Error(codes.InvalidArgument, "bad record"), 2},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (33554432 vs. 4194304)"), 9},
		{status.Error(codes.ResourceExhausted, "grpc: trying to send message larger than max (5000 vs. 1024)"), 6},
		{status.Error(codes.ResourceExhausted, "grpc: received message larger than max (4 vs. 0)"), 2},
		{errors.New("request message too large: exceeded 1024 bytes"), 2},
	} {
		assert.Equal(t, tc.want, splitParts(tc.err), "%v", tc.err)
	}
}
