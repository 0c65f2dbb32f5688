package otelbearer

import (
	"bufio"
	"io"
	"net"
	"net/http"

	"github.com/felixge/httpsnoop"
)

// statusRecorder captures the response status for the audit record. It is
// also the ResponseWriter passed on when the writer it wraps has none of
// the optional interfaces.
type statusRecorder struct {
	http.ResponseWriter
	code     int
	finished bool
}

// Optional interfaces of a ResponseWriter that the wrapper passed on must
// have exactly when the wrapped one has them (type assertions and
// http.ResponseController see the same writer as without the middleware).
const (
	hasFlush = 1 << iota
	hasHijack
	hasReadFrom
	hasPush
	hasCloseNotify
)

// features returns the optional interfaces w has.
func features(w http.ResponseWriter) int {
	f := 0
	if _, ok := w.(http.Flusher); ok {
		f |= hasFlush
	}
	if _, ok := w.(http.Hijacker); ok {
		f |= hasHijack
	}
	if _, ok := w.(io.ReaderFrom); ok {
		f |= hasReadFrom
	}
	if _, ok := w.(http.Pusher); ok {
		f |= hasPush
	}
	//lint:ignore SA1019 kept for the handlers that still assert it
	if _, ok := w.(http.CloseNotifier); ok {
		f |= hasCloseNotify
	}
	return f
}

// newStatusRecorder returns a recorder and the writer to pass on, which has
// the optional interfaces of w and no other. The interface sets of
// net/http's HTTP/1 and HTTP/2 writers (as otelhttp passes them on) and of
// httptest.ResponseRecorder cost one allocation; any other set is wrapped
// by httpsnoop.
func newStatusRecorder(w http.ResponseWriter) (*statusRecorder, http.ResponseWriter) {
	switch features(w) {
	case 0:
		s := &statusRecorder{ResponseWriter: w}
		return s, s
	case hasFlush:
		s := &statusF{statusRecorder{ResponseWriter: w}}
		return &s.statusRecorder, s
	case hasFlush | hasHijack | hasReadFrom | hasCloseNotify:
		s := &statusHTTP1{statusRecorder{ResponseWriter: w}}
		return &s.statusRecorder, s
	case hasFlush | hasPush | hasCloseNotify:
		s := &statusHTTP2{statusRecorder{ResponseWriter: w}}
		return &s.statusRecorder, s
	}
	s := &statusRecorder{}
	return s, httpsnoop.Wrap(w, httpsnoop.Hooks{
		WriteHeader: func(next httpsnoop.WriteHeaderFunc) httpsnoop.WriteHeaderFunc {
			return func(code int) { s.header(code); next(code) }
		},
		Write: func(next httpsnoop.WriteFunc) httpsnoop.WriteFunc {
			return func(b []byte) (int, error) { s.body(); return next(b) }
		},
		Flush: func(next httpsnoop.FlushFunc) httpsnoop.FlushFunc {
			return func() { s.body(); next() }
		},
		ReadFrom: func(next httpsnoop.ReadFromFunc) httpsnoop.ReadFromFunc {
			return func(r io.Reader) (int64, error) { s.body(); return next(r) }
		},
	})
}

// header records code unless a final status was recorded already.
func (s *statusRecorder) header(code int) {
	if s.code == 0 && code >= 200 {
		s.code = code
	}
}

// body records the implicit 200 of a body written before any header.
func (s *statusRecorder) body() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
}

// WriteHeader records code and sends it.
func (s *statusRecorder) WriteHeader(code int) {
	s.header(code)
	s.ResponseWriter.WriteHeader(code)
}

// Write records the implicit 200 and writes b.
func (s *statusRecorder) Write(b []byte) (int, error) {
	s.body()
	return s.ResponseWriter.Write(b)
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// done marks a normal return (nil-safe).
func (s *statusRecorder) done() {
	if s != nil {
		s.finished = true
	}
}

// final is the status code sent: 200 when the handler returned without
// writing, 0 when it panicked before writing.
func (s *statusRecorder) final() int {
	if s.code == 0 && s.finished {
		return http.StatusOK
	}
	return s.code
}

func (s *statusRecorder) flush() {
	s.body()
	s.ResponseWriter.(http.Flusher).Flush()
}

func (s *statusRecorder) hijack() (net.Conn, *bufio.ReadWriter, error) {
	return s.ResponseWriter.(http.Hijacker).Hijack()
}

func (s *statusRecorder) readFrom(r io.Reader) (int64, error) {
	s.body()
	return s.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
}

func (s *statusRecorder) push(target string, opts *http.PushOptions) error {
	return s.ResponseWriter.(http.Pusher).Push(target, opts)
}

func (s *statusRecorder) closeNotify() <-chan bool {
	//lint:ignore SA1019 passed on for the handlers that still use it
	return s.ResponseWriter.(http.CloseNotifier).CloseNotify()
}

// statusF passes on a writer that is only a Flusher.
type statusF struct{ statusRecorder }

func (s *statusF) Flush() { s.flush() }

// statusHTTP1 passes on a writer with the interfaces of net/http's HTTP/1
// writer: Flusher, Hijacker, ReaderFrom, CloseNotifier.
type statusHTTP1 struct{ statusRecorder }

func (s *statusHTTP1) Flush()                                       { s.flush() }
func (s *statusHTTP1) Hijack() (net.Conn, *bufio.ReadWriter, error) { return s.hijack() }
func (s *statusHTTP1) ReadFrom(r io.Reader) (int64, error)          { return s.readFrom(r) }
func (s *statusHTTP1) CloseNotify() <-chan bool                     { return s.closeNotify() }

// statusHTTP2 passes on a writer with the interfaces of net/http's HTTP/2
// writer: Flusher, Pusher, CloseNotifier.
type statusHTTP2 struct{ statusRecorder }

func (s *statusHTTP2) Flush()                                           { s.flush() }
func (s *statusHTTP2) Push(target string, opts *http.PushOptions) error { return s.push(target, opts) }
func (s *statusHTTP2) CloseNotify() <-chan bool                         { return s.closeNotify() }
