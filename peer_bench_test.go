package otelbearer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/trace"
)

// peer is what a user writes by hand instead of otelbearer, the benchmark's
// yardstick: run inside otelhttp's server span, read the Authorization
// header, HMAC the token (a pooled HMAC), call the same validator, set the
// same ten attributes in one SetAttributes call and, when a logger is
// given, write one record with the same attributes at the end.
type peer struct {
	next   http.Handler
	macs   sync.Pool
	logger log.Logger   // nil: no OTel log record
	slog   *slog.Logger // nil: no slog line
}

func newPeer(next http.Handler, lp log.LoggerProvider, sl *slog.Logger) *peer {
	p := &peer{next: next, slog: sl}
	p.macs.New = func() any { return hmac.New(sha256.New, testKey) }
	if lp != nil {
		p.logger = lp.Logger("peer")
	}
	return p
}

func discardSlog() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func (p *peer) fingerprint(tok string) string {
	m := p.macs.Get().(hash.Hash)
	m.Reset()
	_, _ = io.WriteString(m, tok)
	var sum [sha256.Size]byte
	s := hex.EncodeToString(m.Sum(sum[:0])[:16])
	p.macs.Put(m)
	return s
}

// statusWriter is the peer's status capture.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	fp := p.fingerprint(tok)
	claims, err := testValidator.Validate(ctx, tok)
	if err != nil {
		trace.SpanFromContext(ctx).SetAttributes(TokenFingerprintKey.String(fp),
			AuthEventKey.String(string(AuthTokenInvalid)))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	attrs := []attribute.KeyValue{
		TokenFingerprintKey.String(fp),
		AuthEventKey.String(string(AuthTokenValid)),
		AuthzDecisionKey.String(string(AuthzNone)),
		UserIDKey.String(claims.Subject),
		TokenSourceKey.String(string(TokenSourceHeader)),
		AuthSchemeKey.String(string(AuthSchemeBearer)),
		TokenIDKey.String(claims.TokenID),
		TokenScopesKey.StringSlice(claims.Scopes),
		TokenClientIDKey.String(claims.ClientID),
		TokenIssuerKey.String(claims.Issuer),
	}
	trace.SpanFromContext(ctx).SetAttributes(attrs...)
	if p.logger == nil && p.slog == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	p.next.ServeHTTP(sw, r)
	if sw.code == 0 {
		sw.code = http.StatusOK
	}
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if p.logger != nil {
		p.emit(ctx, attrs, host, r, sw.code)
	} else {
		p.slog.LogAttrs(ctx, slog.LevelInfo, "authentication result: token_valid",
			slog.String("token.fingerprint", fp),
			slog.String("auth.event", string(AuthTokenValid)),
			slog.String("authz.decision", string(AuthzNone)),
			slog.String("user.id", claims.Subject),
			slog.String("token.source", string(TokenSourceHeader)),
			slog.String("auth.scheme", string(AuthSchemeBearer)),
			slog.String("token.id", claims.TokenID),
			slog.Any("token.scopes", claims.Scopes),
			slog.String("token.client_id", claims.ClientID),
			slog.String("token.issuer", claims.Issuer),
			slog.String("client.address", host),
			slog.String("http.request.method", r.Method),
			slog.String("url.path", r.URL.Path),
			slog.Int("http.response.status_code", sw.code),
		)
	}
}

// emit writes one OTel log record: the span's attributes plus who, what
// and the status, as otelbearer's audit record has them.
func (p *peer) emit(ctx context.Context, attrs []attribute.KeyValue, host string, r *http.Request, code int) {
	var rec log.Record
	rec.SetEventName(AuditEventAuthn)
	rec.SetTimestamp(time.Now())
	rec.SetSeverity(log.SeverityInfo)
	rec.SetSeverityText("INFO")
	rec.SetBody(attribute.StringValue("authentication result: token_valid"))
	kvs := make([]attribute.KeyValue, 0, len(attrs)+4)
	kvs = append(kvs, attrs...)
	kvs = append(kvs,
		ClientAddressKey.String(host),
		httpMethodKey.String(r.Method),
		urlPathKey.String(r.URL.Path),
		httpStatusKey.Int(code),
	)
	rec.AddAttributes(kvs...)
	p.logger.Emit(ctx, rec)
}

// floorMiddleware sets, in one call, the attributes otelbearer puts on the
// server span of a valid request, prebuilt: what the SDK charges to carry
// them, with nothing computed.
func floorMiddleware(next http.Handler) http.Handler {
	attrs := []attribute.KeyValue{
		TokenFingerprintKey.String("0123456789abcdef0123456789abcdef"),
		AuthEventKey.String(string(AuthTokenValid)),
		AuthzDecisionKey.String(string(AuthzNone)),
		UserIDKey.String("alice"),
		TokenSourceKey.String(string(TokenSourceHeader)),
		AuthSchemeKey.String(string(AuthSchemeBearer)),
		TokenIDKey.String("jti-a"),
		TokenScopesKey.StringSlice([]string{"read"}),
		TokenClientIDKey.String("cli"),
		TokenIssuerKey.String("https://issuer"),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trace.SpanFromContext(r.Context()).SetAttributes(attrs...)
		next.ServeHTTP(w, r)
	})
}
