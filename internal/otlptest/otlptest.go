// Package otlptest is an in-process OTLP receiver for tests. It accepts
// trace, log and metric exports over gRPC ([Receiver.Addr]) and over
// OTLP/HTTP with protobuf bodies ([Receiver.HTTPAddr]), each on 127.0.0.1
// (a free port), keeps every request, and exposes each request's
// serialized protobuf bytes, so a test can search exactly what an
// exporter put on the wire. It can
// answer slowly ([Receiver.SetDelay]) or refuse exports
// ([Receiver.SetUnavailable], [Receiver.SetCode]) to play a slow or failed
// collector, reject requests that carry a marker
// ([Receiver.SetRejectMarker]), and limit the size of the requests it
// accepts ([WithMaxRecvMsgSize]).
package otlptest

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Receiver is a running OTLP receiver (gRPC and HTTP) for traces, logs
// and metrics. Its methods are safe for concurrent use.
type Receiver struct {
	srv     *grpc.Server
	lis     net.Listener
	httpSrv *http.Server
	httpLis net.Listener
	mu      sync.Mutex
	cond    *sync.Cond

	traces  []*coltracepb.ExportTraceServiceRequest
	logs    []*collogspb.ExportLogsServiceRequest
	metrics []*colmetricpb.ExportMetricsServiceRequest
	raw     [][]byte // every request's bytes, in arrival order

	delay       time.Duration // before answering an export
	unavailable bool          // answer Unavailable and keep nothing
	refused     int           // exports refused while unavailable
	code        codes.Code    // answer this status and keep nothing (OK: off)
	marker      []byte        // reject requests containing it with InvalidArgument
	rejected    int           // requests rejected (marker or code)
	partial     int64         // log records to report rejected in a partial success
}

// Option configures a Receiver at [Start].
type Option func(*options)

type options struct{ grpc []grpc.ServerOption }

// WithMaxRecvMsgSize sets the largest request, in bytes, the receiver
// accepts; larger ones fail with gRPC status ResourceExhausted ("grpc:
// received message larger than max"), as with a Collector. Without it the
// limit is gRPC's default, 4 MiB, which is also the Collector's. It applies
// to the gRPC receiver only.
func WithMaxRecvMsgSize(n int) Option {
	return func(o *options) { o.grpc = append(o.grpc, grpc.MaxRecvMsgSize(n)) }
}

// Start starts a Receiver on 127.0.0.1:0, configured by opts, and stops it
// when t ends. It fails t if it cannot listen.
func Start(t testing.TB, opts ...Option) *Receiver {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	r := &Receiver{srv: grpc.NewServer(o.grpc...), lis: lis}
	r.cond = sync.NewCond(&r.mu)
	coltracepb.RegisterTraceServiceServer(r.srv, traceService{r: r})
	collogspb.RegisterLogsServiceServer(r.srv, logsService{r: r})
	colmetricpb.RegisterMetricsServiceServer(r.srv, metricsService{r: r})
	hlis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = lis.Close()
		t.Fatalf("otlptest: listen: %v", err)
	}
	r.httpLis = hlis
	r.httpSrv = &http.Server{Handler: r.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(lis) }()
	go func() { _ = r.httpSrv.Serve(hlis) }()
	t.Cleanup(r.Stop)
	return r
}

// Addr is the host:port of the gRPC receiver, to point an exporter at
// (with insecure transport).
func (r *Receiver) Addr() string { return r.lis.Addr().String() }

// HTTPAddr is the host:port of the OTLP/HTTP receiver (plain HTTP; paths
// /v1/traces, /v1/logs and /v1/metrics; protobuf bodies, gzip accepted).
func (r *Receiver) HTTPAddr() string { return r.httpLis.Addr().String() }

// Stop stops both servers, ending open streams and connections. It is
// safe to call twice.
func (r *Receiver) Stop() {
	r.srv.Stop()
	_ = r.httpSrv.Close()
}

// Traces returns the trace requests received so far.
func (r *Receiver) Traces() []*coltracepb.ExportTraceServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*coltracepb.ExportTraceServiceRequest(nil), r.traces...)
}

// Logs returns the log requests received so far.
func (r *Receiver) Logs() []*collogspb.ExportLogsServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*collogspb.ExportLogsServiceRequest(nil), r.logs...)
}

// Bytes returns the serialized protobuf bytes of every request received so
// far (traces, logs and metrics), concatenated in arrival order.
func (r *Receiver) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Join(r.raw, nil)
}

// Contains reports whether any received request's bytes contain s.
func (r *Receiver) Contains(s string) bool {
	return bytes.Contains(r.Bytes(), []byte(s))
}

// SpanCount returns the number of spans received so far.
func (r *Receiver) SpanCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spanCount()
}

func (r *Receiver) spanCount() int {
	n := 0
	for _, req := range r.traces {
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				n += len(ss.GetSpans())
			}
		}
	}
	return n
}

// LogCount returns the number of log records received so far.
func (r *Receiver) LogCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.logCount()
}

func (r *Receiver) logCount() int {
	n := 0
	for _, req := range r.logs {
		for _, rl := range req.GetResourceLogs() {
			for _, sl := range rl.GetScopeLogs() {
				n += len(sl.GetLogRecords())
			}
		}
	}
	return n
}

// WaitSpans waits until at least n spans have arrived or timeout passes,
// and reports whether they did.
func (r *Receiver) WaitSpans(n int, timeout time.Duration) bool {
	return r.wait(timeout, func() bool { return r.spanCount() >= n })
}

// WaitLogs waits until at least n log records have arrived or timeout
// passes, and reports whether they did.
func (r *Receiver) WaitLogs(n int, timeout time.Duration) bool {
	return r.wait(timeout, func() bool { return r.logCount() >= n })
}

func (r *Receiver) wait(timeout time.Duration, done func() bool) bool {
	timer := time.AfterFunc(timeout, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(timeout)
	r.mu.Lock()
	defer r.mu.Unlock()
	for !done() {
		if !time.Now().Before(deadline) {
			return false
		}
		r.cond.Wait()
	}
	return true
}

// SetDelay makes every later trace and log export wait d before it is
// answered (and kept); 0 answers at once.
func (r *Receiver) SetDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

// SetUnavailable makes later trace and log exports fail with gRPC status
// Unavailable (a collector that is down; exporters retry it) and keeps
// nothing from them, until it is called with false.
func (r *Receiver) SetUnavailable(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unavailable = on
}

// SetCode makes later trace and log exports fail with gRPC status code c
// and keeps nothing from them (counted by [Receiver.Rejected]), until it
// is called with codes.OK.
func (r *Receiver) SetCode(c codes.Code) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.code = c
}

// SetRejectMarker makes later trace and log exports whose serialized
// request contains marker fail with gRPC status InvalidArgument (a
// permanent rejection, not to be retried) and keeps nothing from them;
// "" turns it off. Rejected requests are counted by [Receiver.Rejected].
func (r *Receiver) SetRejectMarker(marker string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.marker = []byte(marker)
}

// SetPartialSuccess makes later log exports that are kept answer with an
// OTLP partial success reporting n records rejected (the request is kept
// whole); 0 answers with full success.
func (r *Receiver) SetPartialSuccess(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = n
}

// Rejected returns the number of exports failed by [Receiver.SetCode] or
// [Receiver.SetRejectMarker].
func (r *Receiver) Rejected() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// Refused returns the number of exports refused while unavailable.
func (r *Receiver) Refused() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

// Metrics returns the metric requests received so far.
func (r *Receiver) Metrics() []*colmetricpb.ExportMetricsServiceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*colmetricpb.ExportMetricsServiceRequest(nil), r.metrics...)
}

func (r *Receiver) record(ctx context.Context, msg proto.Message, add func()) error {
	r.mu.Lock()
	delay, unavailable, code, marker := r.delay, r.unavailable, r.code, r.marker
	if unavailable {
		r.refused++
	} else if code != codes.OK {
		r.rejected++
	}
	r.mu.Unlock()
	if unavailable {
		return status.Error(codes.Unavailable, "otlptest: unavailable")
	}
	if code != codes.OK {
		return status.Error(code, "otlptest: "+code.String())
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	b, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(marker) > 0 && bytes.Contains(b, marker) {
		r.rejected++
		return status.Error(codes.InvalidArgument, "otlptest: request carries the reject marker")
	}
	add()
	r.raw = append(r.raw, b)
	r.cond.Broadcast()
	return nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	err := s.r.record(ctx, req, func() { s.r.traces = append(s.r.traces, req) })
	return &coltracepb.ExportTraceServiceResponse{}, err
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	r *Receiver
}

func (s logsService) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	var partial int64
	err := s.r.record(ctx, req, func() {
		s.r.logs = append(s.r.logs, req)
		partial = s.r.partial
	})
	resp := &collogspb.ExportLogsServiceResponse{}
	if partial > 0 {
		resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: partial, ErrorMessage: "otlptest: partial success"}
	}
	return resp, err
}

type metricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	if err := s.r.recordMetrics(req); err != nil {
		return nil, err
	}
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

// recordMetrics keeps a metrics request; metric exports are never delayed
// or refused.
func (r *Receiver) recordMetrics(req *colmetricpb.ExportMetricsServiceRequest) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, req)
	r.raw = append(r.raw, b)
	r.cond.Broadcast()
	return nil
}
