package setup

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// failure is how the export loop treats an exporter's error.
type failure int

const (
	// transient: the receiver may accept the same batch later (it is down,
	// slow, throttling, or the error is not understood). The batch is kept
	// (spooled or held in memory) and retried after a backoff.
	transient failure = iota
	// refused: the receiver refuses this client, not this data
	// (Unauthenticated, PermissionDenied, Unimplemented, NotFound,
	// FailedPrecondition). No record is at fault, so none is dropped
	// (the audit log is not given up for a misconfigured receiver): the
	// batch is kept and retried like a transient failure, and each
	// failure is reported through otel.Handle as a configuration error.
	refused
	// rejected: the receiver (or the gRPC client before sending) refuses
	// this batch for good and would refuse it again: the OTLP
	// specification forbids retrying it. The batch is split until the
	// record at fault is alone; that record is dropped and counted. A
	// receiver that rejects every request this way (a Collector whose
	// own exporter fails permanently without a sending queue) therefore
	// costs every record, each counted as rejected: retrying would not
	// help, and waiting would block the records behind.
	rejected
)

// classify sorts an exporter's error. otlploggrpc returns the gRPC status
// of the last attempt (after its own retries of retryable codes), wrapped
// by fmt.Errorf or errors.Join; status.FromError finds it in the chain.
//
// Rejected, following the OTLP specification's list of codes not to
// retry, when the code is InvalidArgument, Internal (this includes the
// client's "grpc: error while marshaling", such as a string that is not
// valid UTF-8), AlreadyExists, or ResourceExhausted without RetryInfo (a
// request over the receiver's message limit, "grpc: received message
// larger than max", or over the client's, "trying to send message larger
// than max"); also the exporter's own "request message too large"
// (otlploggrpc.WithMaxRequestSize).
//
// Transient: the retryable codes (Canceled, DeadlineExceeded, Aborted,
// OutOfRange, Unavailable, DataLoss, ResourceExhausted with RetryInfo),
// Unknown (what a proxy's HTTP 5xx becomes), context errors, and any
// error without a status.
func classify(err error) failure {
	if err == nil {
		return transient
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return transient
	}
	s, ok := status.FromError(err)
	if !ok {
		if strings.Contains(err.Error(), "request message too large") {
			return rejected
		}
		return classifyHTTP(err)
	}
	switch s.Code() {
	case codes.InvalidArgument, codes.Internal, codes.AlreadyExists:
		return rejected
	case codes.ResourceExhausted:
		for _, d := range s.Proto().GetDetails() {
			if strings.HasSuffix(d.GetTypeUrl(), "/google.rpc.RetryInfo") {
				return transient
			}
		}
		return rejected
	case codes.Unauthenticated, codes.PermissionDenied, codes.Unimplemented, codes.NotFound, codes.FailedPrecondition:
		return refused
	}
	return transient
}

// tooLarge matches gRPC's size errors, client side ("trying to send
// message larger than max (X vs. Y)") and server side ("received message
// larger than max (X vs. Y)").
var tooLarge = regexp.MustCompile(`larger than max \((\d+) vs\. (\d+)\)`)

// splitParts returns in how many parts to split a rejected request: as
// many as make each part fit when err states the request's size and the
// limit, else 2.
func splitParts(err error) int {
	m := tooLarge.FindStringSubmatch(err.Error())
	if m == nil {
		return 2
	}
	size, err1 := strconv.ParseInt(m[1], 10, 64)
	limit, err2 := strconv.ParseInt(m[2], 10, 64)
	if err1 != nil || err2 != nil || limit <= 0 || size <= limit {
		return 2
	}
	// A margin of one part for records of uneven size; a part still too
	// large is split again.
	return int(min((size+limit-1)/limit+1, 1<<16))
}

// partialSuccess reports the records the receiver rejected in a request
// it otherwise accepted (an OTLP partial success, which otlploggrpc
// returns as an error with no status). ok is false when err holds no
// such report or also holds a failure.
func partialSuccess(err error) (rejectedItems int64, ok bool) {
	if err == nil {
		return 0, false
	}
	if _, isStatus := status.FromError(err); isStatus {
		return 0, false
	}
	var found, other bool
	walk(err, func(e error) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Struct && v.Type().Name() == "PartialSuccess" {
			if f := v.FieldByName("RejectedItems"); f.IsValid() && f.CanInt() {
				rejectedItems += f.Int()
				found = true
				return
			}
		}
		other = true
	})
	return rejectedItems, found && !other
}

// walk calls f on each leaf of err's tree (errors.Join, %w).
func walk(err error, f func(error)) {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			walk(e, f)
		}
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			walk(e, f)
			return
		}
		f(err)
	default:
		f(err)
	}
}

// httpStatus matches otlploghttp's error for a response it does not retry
// ("failed to send logs to URL: 400 Bad Request (body: …)"); it retries
// 429, 502, 503 and 504 itself and reports those otherwise.
var httpStatus = regexp.MustCompile(`^failed to send logs to \S+: (\d{3}) `)

// classifyHTTP classifies an OTLP/HTTP exporter's error as the OTLP
// specification does: a status it does not retry is the request's fault
// (400 Bad Request, 413 Content Too Large, 422, 500), a refusal of this
// client (401, 403, 404, 405, 415, 501), or else transient.
func classifyHTTP(err error) failure {
	m := httpStatus.FindStringSubmatch(err.Error())
	if m == nil {
		return transient
	}
	switch m[1] {
	case "400", "413", "422", "500":
		return rejected
	case "401", "403", "404", "405", "415", "501":
		return refused
	}
	return transient
}
