package otlptest

import (
	"compress/gzip"
	"io"
	"net/http"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// httpHandler serves OTLP/HTTP with protobuf bodies, with the same delay,
// refusals, rejections and partial success as the gRPC services.
func (r *Receiver) httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, hr *http.Request) {
		req := &coltracepb.ExportTraceServiceRequest{}
		serveHTTP(w, hr, req, &coltracepb.ExportTraceServiceResponse{}, func() error {
			return r.record(hr.Context(), req, func() { r.traces = append(r.traces, req) })
		})
	})
	mux.HandleFunc("POST /v1/logs", func(w http.ResponseWriter, hr *http.Request) {
		req := &collogspb.ExportLogsServiceRequest{}
		resp := &collogspb.ExportLogsServiceResponse{}
		serveHTTP(w, hr, req, resp, func() error {
			return r.record(hr.Context(), req, func() {
				r.logs = append(r.logs, req)
				if r.partial > 0 {
					resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{
						RejectedLogRecords: r.partial, ErrorMessage: "otlptest: partial success"}
				}
			})
		})
	})
	mux.HandleFunc("POST /v1/metrics", func(w http.ResponseWriter, hr *http.Request) {
		req := &colmetricpb.ExportMetricsServiceRequest{}
		serveHTTP(w, hr, req, &colmetricpb.ExportMetricsServiceResponse{}, func() error {
			return r.recordMetrics(req)
		})
	})
	return mux
}

// serveHTTP decodes the (possibly gzipped) protobuf body into req, calls
// keep and answers resp, or 400 for a bad body, or the HTTP status of
// keep's gRPC status as OTLP/HTTP defines them: the retryable 429, 503
// and 504, else 400 (permanent).
func serveHTTP(w http.ResponseWriter, hr *http.Request, req, resp proto.Message, keep func() error) {
	var body io.Reader = hr.Body
	if hr.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(hr.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err == nil {
		err = proto.Unmarshal(b, req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := keep(); err != nil {
		http.Error(w, err.Error(), httpStatus(status.Code(err)))
		return
	}
	out, err := proto.Marshal(resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// httpStatus maps a gRPC status code to the OTLP/HTTP answer.
func httpStatus(c codes.Code) int {
	switch c {
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.DeadlineExceeded, codes.Canceled:
		return http.StatusGatewayTimeout
	default:
		return http.StatusBadRequest
	}
}
