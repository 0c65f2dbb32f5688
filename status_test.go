package otelbearer

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
)

// fakeWriter records which of its methods were called.
type fakeWriter struct {
	h     http.Header
	calls []string
}

func (f *fakeWriter) Header() http.Header {
	if f.h == nil {
		f.h = http.Header{}
	}
	return f.h
}
func (f *fakeWriter) Write(b []byte) (int, error) {
	f.calls = append(f.calls, "Write")
	return len(b), nil
}
func (f *fakeWriter) WriteHeader(int) { f.calls = append(f.calls, "WriteHeader") }
func (f *fakeWriter) flush()          { f.calls = append(f.calls, "Flush") }
func (f *fakeWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	f.calls = append(f.calls, "Hijack")
	return nil, nil, nil
}
func (f *fakeWriter) readFrom(io.Reader) (int64, error) {
	f.calls = append(f.calls, "ReadFrom")
	return 0, nil
}
func (f *fakeWriter) push(string, *http.PushOptions) error {
	f.calls = append(f.calls, "Push")
	return nil
}
func (f *fakeWriter) closeNotify() <-chan bool { f.calls = append(f.calls, "CloseNotify"); return nil }

// Writers with the interface sets that matter: none, the fast paths
// (recorder, HTTP/1, HTTP/2) and two that take httpsnoop's path.
type (
	fakePlain struct{ *fakeWriter }
	fakeF     struct{ *fakeWriter }
	fakeFHRC  struct{ *fakeWriter }
	fakeFPC   struct{ *fakeWriter }
	fakeH     struct{ *fakeWriter }
	fakeFR    struct{ *fakeWriter }
)

func (f fakeF) Flush()                                             { f.flush() }
func (f fakeFHRC) Flush()                                          { f.flush() }
func (f fakeFHRC) Hijack() (net.Conn, *bufio.ReadWriter, error)    { return f.hijack() }
func (f fakeFHRC) ReadFrom(r io.Reader) (int64, error)             { return f.readFrom(r) }
func (f fakeFHRC) CloseNotify() <-chan bool                        { return f.closeNotify() }
func (f fakeFPC) Flush()                                           { f.flush() }
func (f fakeFPC) Push(target string, opts *http.PushOptions) error { return f.push(target, opts) }
func (f fakeFPC) CloseNotify() <-chan bool                         { return f.closeNotify() }
func (f fakeH) Hijack() (net.Conn, *bufio.ReadWriter, error)       { return f.hijack() }
func (f fakeFR) Flush()                                            { f.flush() }
func (f fakeFR) ReadFrom(r io.Reader) (int64, error)               { return f.readFrom(r) }

// callAll calls every optional method w has, as a handler would.
func callAll(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if h, ok := w.(http.Hijacker); ok {
		_, _, _ = h.Hijack()
	}
	if r, ok := w.(io.ReaderFrom); ok {
		_, _ = r.ReadFrom(strings.NewReader(""))
	}
	if p, ok := w.(http.Pusher); ok {
		_ = p.Push("/x", nil)
	}
	//lint:ignore SA1019 the wrapper must keep it
	if c, ok := w.(http.CloseNotifier); ok {
		c.CloseNotify()
	}
}

// The writer passed on has exactly the optional interfaces of the one it
// wraps, each reaching it, and http.ResponseController finds them.
func TestStatusRecorderKeepsInterfaces(t *testing.T) {
	tests := []struct {
		name  string
		w     func(*fakeWriter) http.ResponseWriter
		calls []string
	}{
		{"plain", func(f *fakeWriter) http.ResponseWriter { return fakePlain{f} }, nil},
		{"recorder", func(f *fakeWriter) http.ResponseWriter { return fakeF{f} }, []string{"Flush"}},
		{"http1", func(f *fakeWriter) http.ResponseWriter { return fakeFHRC{f} },
			[]string{"Flush", "Hijack", "ReadFrom", "CloseNotify"}},
		{"http2", func(f *fakeWriter) http.ResponseWriter { return fakeFPC{f} }, []string{"Flush", "Push", "CloseNotify"}},
		{"hijack only", func(f *fakeWriter) http.ResponseWriter { return fakeH{f} }, []string{"Hijack"}},
		{"flush and readfrom", func(f *fakeWriter) http.ResponseWriter { return fakeFR{f} }, []string{"Flush", "ReadFrom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeWriter{}
			inner := tt.w(f)
			_, w := newStatusRecorder(inner)
			assert.Equal(t, features(inner), features(w))
			callAll(w)
			assert.Equal(t, tt.calls, f.calls)

			f.calls = nil
			rc := http.NewResponseController(w)
			if features(inner)&hasFlush != 0 {
				require.NoError(t, rc.Flush())
			} else {
				require.ErrorIs(t, rc.Flush(), http.ErrNotSupported)
			}
			if features(inner)&hasHijack != 0 {
				_, _, err := rc.Hijack()
				require.NoError(t, err)
			} else {
				_, _, err := rc.Hijack()
				require.ErrorIs(t, err, http.ErrNotSupported)
			}
		})
	}
}

// The status recorded is the one sent, whichever method sent it.
func TestStatusRecorderCode(t *testing.T) {
	tests := []struct {
		name     string
		w        func(*fakeWriter) http.ResponseWriter
		do       func(http.ResponseWriter)
		finished bool
		want     int
	}{
		{"header", func(f *fakeWriter) http.ResponseWriter { return fakeFHRC{f} },
			func(w http.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, true, 404},
		{"informational first", func(f *fakeWriter) http.ResponseWriter { return fakeF{f} },
			func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, true, 201},
		{"write", func(f *fakeWriter) http.ResponseWriter { return fakePlain{f} },
			func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")); w.WriteHeader(500) }, true, 200},
		{"flush", func(f *fakeWriter) http.ResponseWriter { return fakeFPC{f} },
			func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, false, 200},
		{"readfrom", func(f *fakeWriter) http.ResponseWriter { return fakeFR{f} },
			func(w http.ResponseWriter) { _, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("x")) }, false, 200},
		{"nothing, returned", func(f *fakeWriter) http.ResponseWriter { return fakeH{f} },
			func(http.ResponseWriter) {}, true, 200},
		{"nothing, panicked", func(f *fakeWriter) http.ResponseWriter { return fakeF{f} },
			func(http.ResponseWriter) {}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, w := newStatusRecorder(tt.w(&fakeWriter{}))
			tt.do(w)
			if tt.finished {
				s.done()
			}
			assert.Equal(t, tt.want, s.final())
		})
	}
}

// Over real HTTP/1 and HTTP/2 servers with the audit record on, the handler
// sees a writer with the same interfaces as under otelhttp alone, the
// one-allocation wrapper is the one used, and Hijack works.
func TestStatusRecorderRealServers(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := map[bool]string{false: "http1", true: "http2"}[h2]
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			var plain, ours http.ResponseWriter
			mux := http.NewServeMux()
			mux.Handle("/plain", otelhttp.NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				plain = w
			}), "plain", otelhttp.WithTracerProvider(h.tp)))
			mux.Handle("/ours", NewHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				ours = w
				if !h2 {
					conn, rw, err := http.NewResponseController(w).Hijack()
					if assert.NoError(t, err) {
						_, _ = rw.WriteString("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
						_ = rw.Flush()
						_ = conn.Close()
					}
				}
			}), "ours", h.opts()...))
			srv := httptest.NewUnstartedServer(mux)
			if h2 {
				srv.EnableHTTP2 = true
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c := srv.Client()
			if h2 {
				c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // test server
				c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
			}
			for _, p := range []string{"/plain", "/ours"} {
				resp, err := c.Get(srv.URL + p)
				require.NoError(t, err)
				_ = resp.Body.Close()
				if p == "/ours" && !h2 {
					assert.Equal(t, http.StatusTeapot, resp.StatusCode)
				}
				if h2 {
					assert.Equal(t, 2, resp.ProtoMajor)
				}
			}
			require.NotNil(t, plain)
			require.NotNil(t, ours)
			assert.Equal(t, features(plain), features(ours))
			if h2 {
				assert.IsType(t, &statusHTTP2{}, ours)
			} else {
				assert.IsType(t, &statusHTTP1{}, ours)
			}
		})
	}
}
