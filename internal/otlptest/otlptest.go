// Package otlptest is an in-process OTLP/gRPC receiver for tests. It
// accepts trace and log exports on 127.0.0.1 (a free port), keeps every
// request, and exposes each request's serialized protobuf bytes, so a test
// can search exactly what an exporter put on the wire.
package otlptest

import (
	"bytes"
	"context"
	"net"
	"sync"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Receiver is a running OTLP/gRPC receiver for traces and logs. Its methods
// are safe for concurrent use.
type Receiver struct {
	srv  *grpc.Server
	lis  net.Listener
	mu   sync.Mutex
	cond *sync.Cond

	traces []*coltracepb.ExportTraceServiceRequest
	logs   []*collogspb.ExportLogsServiceRequest
	raw    [][]byte // every request's bytes, in arrival order
}

// Start starts a Receiver on 127.0.0.1:0 and stops it when t ends. It fails
// t if it cannot listen.
func Start(t testing.TB) *Receiver {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	r := &Receiver{srv: grpc.NewServer(), lis: lis}
	r.cond = sync.NewCond(&r.mu)
	coltracepb.RegisterTraceServiceServer(r.srv, traceService{r: r})
	collogspb.RegisterLogsServiceServer(r.srv, logsService{r: r})
	go func() { _ = r.srv.Serve(lis) }()
	t.Cleanup(r.Stop)
	return r
}

// Addr is the host:port to point an exporter at (with insecure transport).
func (r *Receiver) Addr() string { return r.lis.Addr().String() }

// Stop stops the server, ending open streams. It is safe to call twice.
func (r *Receiver) Stop() { r.srv.Stop() }

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
// far (traces and logs), concatenated in arrival order.
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

func (r *Receiver) record(msg proto.Message, add func()) error {
	b, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	add()
	r.raw = append(r.raw, b)
	r.cond.Broadcast()
	return nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	err := s.r.record(req, func() { s.r.traces = append(s.r.traces, req) })
	return &coltracepb.ExportTraceServiceResponse{}, err
}

type logsService struct {
	collogspb.UnimplementedLogsServiceServer
	r *Receiver
}

func (s logsService) Export(_ context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	err := s.r.record(req, func() { s.r.logs = append(s.r.logs, req) })
	return &collogspb.ExportLogsServiceResponse{}, err
}
