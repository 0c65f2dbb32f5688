package otelbearer

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

func bearer(r *http.Request, tok string) *http.Request {
	r.Header.Set("Authorization", "Bearer "+tok)
	return r
}

// dataMux is a small data API: GET /api/data/{id} owned by "<owner>-<n>".
func dataMux(tp trace.TracerProvider) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/data/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, early := tp.Tracer("t").Start(ctx, "before-decision")
		early.End()
		claims, _ := ClaimsFromContext(ctx)
		id := r.PathValue("id")
		if !strings.HasPrefix(id, claims.Subject+"-") {
			Deny(ctx, "not_owner", id)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		Allow(ctx, "owner", id)
		_, db := tp.Tracer("t").Start(ctx, "db.lookup")
		db.End()
		_, _ = w.Write([]byte("ok"))
	})
	return mux
}

func TestHandlerStampsEverySpan(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator))...)

	res := serve(handler, bearer(httptest.NewRequest(http.MethodGet, "/api/data/alice-1", nil), tokAlice))
	require.Equal(t, http.StatusOK, res.StatusCode)

	fp := newFingerprinter(newKey(testKey)).Fingerprint(tokAlice)
	server := attrMap(h.span(t, "GET /api/data/{id}").Attributes())
	assert.Equal(t, fp, server[TokenFingerprintKey])
	assert.Len(t, fp, fingerprintHexLen)
	assert.Equal(t, "token_valid", server[AuthEventKey])
	assert.Equal(t, "allow", server[AuthzDecisionKey])
	assert.Equal(t, "owner", server[AuthzReasonKey])
	assert.Equal(t, "alice-1", server[AuthzResourceKey])
	assert.Equal(t, "alice", server[UserIDKey])
	assert.Equal(t, "jti-a", server[TokenIDKey])
	assert.Equal(t, `["read"]`, server[TokenScopesKey])
	assert.Equal(t, "cli", server[TokenClientIDKey])
	assert.Equal(t, "https://issuer", server[TokenIssuerKey])
	assert.Equal(t, "header", server[TokenSourceKey])
	assert.Equal(t, "bearer", server[AuthSchemeKey])
	assert.Equal(t, "192.0.2.1", server[ClientAddressKey], "httptest's peer")

	db := attrMap(h.span(t, "db.lookup").Attributes())
	assert.Equal(t, fp, db[TokenFingerprintKey])
	assert.Equal(t, "token_valid", db[AuthEventKey])
	assert.Equal(t, "allow", db[AuthzDecisionKey], "started after Allow")
	assert.Equal(t, "alice", db[UserIDKey])

	early := attrMap(h.span(t, "before-decision").Attributes())
	assert.Equal(t, fp, early[TokenFingerprintKey])
	assert.Equal(t, "none", early[AuthzDecisionKey], "started before the decision")

	var ev []string
	for _, e := range h.span(t, "GET /api/data/{id}").Events() {
		ev = append(ev, e.Name)
	}
	assert.Contains(t, ev, "authz.decision")
	h.requireAbsent(t, tokAlice)
}

func TestHandlerEnforcement(t *testing.T) {
	tests := []struct {
		name      string
		req       func() *http.Request
		status    int
		challenge string // WWW-Authenticate, "" for none
		event     AuthEvent
		decision  AuthzDecision
		severity  log.Severity
	}{
		{"valid owner", func() *http.Request { return bearer(get("/api/data/alice-1"), tokAlice) },
			200, "", AuthTokenValid, AuthzAllow, log.SeverityInfo},
		{"bola deny", func() *http.Request { return bearer(get("/api/data/alice-1"), tokBob) },
			403, "", AuthTokenValid, AuthzDeny, log.SeverityInfo},
		{"missing", func() *http.Request { return get("/api/data/alice-1") },
			401, `Bearer realm="api"`, AuthTokenMissing, AuthzNone, log.SeverityWarn},
		{"basic scheme", func() *http.Request {
			r := get("/api/data/alice-1")
			r.SetBasicAuth("alice", "s3cr3t-pass")
			return r
		}, 401, `Bearer realm="api"`, AuthTokenMissing, AuthzNone, log.SeverityWarn},
		{"empty bearer", func() *http.Request {
			r := get("/api/data/alice-1")
			r.Header.Set("Authorization", "Bearer ")
			return r
		}, 400, `Bearer realm="api", error="invalid_request", error_description="no token after the scheme"`, AuthTokenMalformed, AuthzNone, log.SeverityWarn},
		{"duplicate header", func() *http.Request {
			r := bearer(get("/api/data/alice-1"), tokAlice)
			r.Header.Add("Authorization", "Bearer "+tokBob)
			return r
		}, 400, `Bearer realm="api", error="invalid_request", error_description="duplicate Authorization headers"`, AuthTokenMalformed, AuthzNone, log.SeverityWarn},
		{"invalid", func() *http.Request { return bearer(get("/api/data/alice-1"), "forged.token") },
			401, `Bearer realm="api", error="invalid_token", error_description="the access token is invalid"`, AuthTokenInvalid, AuthzNone, log.SeverityWarn},
		{"expired", func() *http.Request { return bearer(get("/api/data/alice-1"), tokExpired) },
			401, `Bearer realm="api", error="invalid_token", error_description="the access token expired"`, AuthTokenExpired, AuthzNone, log.SeverityWarn},
		{"revoked", func() *http.Request { return bearer(get("/api/data/alice-1"), tokRevoked) },
			401, `Bearer realm="api", error="invalid_token", error_description="the access token was revoked"`, AuthTokenRevoked, AuthzNone, log.SeverityWarn},
		{"validator down", func() *http.Request { return bearer(get("/api/data/alice-1"), tokDown) },
			503, `Bearer realm="api"`, AuthTokenUnverified, AuthzNone, log.SeverityWarn},
		{"query token", func() *http.Request { return get("/api/data/alice-1?access_token=" + tokAlice) },
			200, "", AuthTokenValid, AuthzAllow, log.SeverityInfo},
		{"header and query", func() *http.Request { return bearer(get("/api/data/alice-1?access_token="+tokAlice), tokAlice) },
			400, `Bearer realm="api", error="invalid_request", error_description="more than one method used to send the token"`, AuthTokenMalformed, AuthzNone, log.SeverityWarn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator), WithRealm("api"))...)
			res := serve(handler, tt.req())
			assert.Equal(t, tt.status, res.StatusCode)
			assert.Equal(t, tt.challenge, res.Header.Get("WWW-Authenticate"))

			spans := h.spans.Ended()
			server := attrMap(spans[len(spans)-1].Attributes())
			assert.Equal(t, string(tt.event), server[AuthEventKey])
			assert.Equal(t, string(tt.decision), server[AuthzDecisionKey])

			var authn []map[attribute.Key]string
			for _, r := range h.logs.records() {
				if r.EventName() == AuditEventAuthn {
					authn = append(authn, recordAttrs(r))
					assert.Equal(t, tt.severity, r.Severity())
				}
			}
			require.Len(t, authn, 1, "one authn record per request")
			assert.Equal(t, string(tt.event), authn[0][AuthEventKey])
			assert.Equal(t, "192.0.2.1", authn[0][ClientAddressKey])
			assert.Equal(t, "GET", authn[0][httpMethodKey])
			assert.Equal(t, "/api/data/alice-1", authn[0][urlPathKey])
			assert.Equal(t, itoa(tt.status), authn[0][httpStatusKey])
			h.requireAbsent(t, tokAlice, tokBob, "forged.token", tokExpired, tokRevoked, tokDown, "s3cr3t-pass")
		})
	}
}

func get(target string) *http.Request { return httptest.NewRequest(http.MethodGet, target, nil) }

func itoa(n int) string { return attribute.IntValue(n).String() }

func TestHandlerDenyRecord(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator))...)
	serve(handler, bearer(get("/api/data/alice-7"), tokBob))

	var authz []map[attribute.Key]string
	for _, r := range h.logs.records() {
		if r.EventName() == AuditEventAuthz {
			assert.Equal(t, log.SeverityWarn, r.Severity())
			authz = append(authz, recordAttrs(r))
		}
	}
	require.Len(t, authz, 1)
	assert.Equal(t, "deny", authz[0][AuthzDecisionKey])
	assert.Equal(t, "not_owner", authz[0][AuthzReasonKey])
	assert.Equal(t, "alice-7", authz[0][AuthzResourceKey])
	assert.Equal(t, "bob", authz[0][UserIDKey])
	assert.Equal(t, newFingerprinter(newKey(testKey)).Fingerprint(tokBob), authz[0][TokenFingerprintKey])
}

func TestHandlerStickyDeny(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Deny(r.Context(), "not_owner", "x")
		Allow(r.Context(), "admin_override", "x")
		info, _ := FromContext(r.Context())
		assert.Equal(t, AuthzDeny, info.Decision)
	}), "api", h.opts(WithValidator(testValidator))...)
	serve(handler, bearer(get("/"), tokAlice))
	server := attrMap(h.spans.Ended()[0].Attributes())
	assert.Equal(t, "deny", server[AuthzDecisionKey])
	assert.Equal(t, "not_owner", server[AuthzReasonKey])
}

func TestHandlerPublicPath(t *testing.T) {
	h := newHarness(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	handler := NewHandler(ok, "api", h.opts(WithValidator(testValidator), WithTokenOptionalPaths("/healthz"))...)

	assert.Equal(t, 200, serve(handler, get("/healthz")).StatusCode)
	assert.Equal(t, 401, serve(handler, get("/other")).StatusCode)
	assert.Equal(t, 401, serve(handler, bearer(get("/healthz"), "forged.token")).StatusCode, "a present token is still enforced")

	spans := h.spans.Ended()
	health := attrMap(spans[0].Attributes())
	assert.Equal(t, "token_missing", health[AuthEventKey])
	assert.Equal(t, "true", health[AuthOptionalKey])
	recs := h.logs.records()
	require.Len(t, recs, 3)
	assert.Equal(t, log.SeverityInfo, recs[0].Severity(), "no WARN for a public route without token")
	assert.Equal(t, log.SeverityWarn, recs[1].Severity())
}

func TestHandlerObserveOnly(t *testing.T) {
	h := newHarness(t)
	called := 0
	handler := NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called++ }), "api",
		h.opts(WithValidator(testValidator), WithEnforcement(false))...)
	assert.Equal(t, 200, serve(handler, bearer(get("/"), "forged.token")).StatusCode)
	assert.Equal(t, 1, called)
	assert.Equal(t, "token_invalid", attrMap(h.spans.Ended()[0].Attributes())[AuthEventKey])
}

func TestHandlerWithoutValidator(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, ok := ClaimsFromContext(r.Context())
		assert.False(t, ok, "no claims before RecordAuthn")
		RecordAuthn(r.Context(), AuthTokenInvalid, &Claims{Subject: "mallory"})
		_, ok = ClaimsFromContext(r.Context())
		assert.False(t, ok, "claims of a refused token are never kept")
		RecordAuthn(r.Context(), AuthTokenValid, &Claims{Subject: "carol"})
		c, ok := ClaimsFromContext(r.Context())
		assert.True(t, ok)
		assert.Equal(t, "carol", c.Subject)
	}), "api", h.opts()...)
	serve(handler, bearer(get("/"), "opaque-token"))
	server := attrMap(h.spans.Ended()[0].Attributes())
	assert.Equal(t, "token_valid", server[AuthEventKey])
	assert.Equal(t, "carol", server[UserIDKey])

	h2 := newHarness(t)
	serve(NewHandler(http.NotFoundHandler(), "api", h2.opts()...), bearer(get("/"), "opaque-token"))
	assert.Equal(t, "token_unverified", attrMap(h2.spans.Ended()[0].Attributes())[AuthEventKey])
	h.requireAbsent(t, "opaque-token")
	h2.requireAbsent(t, "opaque-token")
}

func TestHandlerWithoutUserID(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator), WithUserID(false))...)
	serve(handler, bearer(get("/api/data/alice-1"), tokAlice))
	assert.NotContains(t, h.dump(), "user.id")
}

func TestHandlerClientAddress(t *testing.T) {
	tests := []struct {
		name    string
		remote  string
		xff     string
		trusted []netip.Prefix
		want    string
	}{
		{"peer by default", "203.0.113.9:4000", "198.51.100.7", nil, "203.0.113.9"},
		{"forged xff from untrusted peer", "203.0.113.9:4000", "198.51.100.7", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "203.0.113.9"},
		{"xff via trusted proxy", "10.1.2.3:4000", "198.51.100.7, 10.0.0.5", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.7"},
		{"attacker prepends via trusted proxy", "10.1.2.3:4000", "1.1.1.1, 198.51.100.7", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "198.51.100.7"},
		{"ipv6 peer", "[2001:db8::1]:4000", "", nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithTrustedProxies(tt.trusted...))...)
			r := get("/")
			r.RemoteAddr = tt.remote
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			serve(handler, r)
			assert.Equal(t, tt.want, attrMap(h.spans.Ended()[0].Attributes())[ClientAddressKey])
			assert.Equal(t, tt.want, recordAttrs(h.logs.records()[0])[ClientAddressKey])
		})
	}
}

func TestHandlerHostileInput(t *testing.T) {
	huge := strings.Repeat("A", 1<<20)
	tests := []struct {
		name  string
		set   func(http.Header)
		event AuthEvent
	}{
		{"1 MiB header", func(h http.Header) { h.Set("Authorization", "Bearer "+huge) }, AuthTokenMalformed},
		{"binary", func(h http.Header) { h["Authorization"] = []string{"Bearer \x00\xffSECRETBIN\x7f"} }, AuthTokenMalformed},
		{"wrong scheme", func(h http.Header) { h.Set("Authorization", "Token SECRETWRONG") }, AuthTokenMissing},
		{"empty", func(h http.Header) { h["Authorization"] = []string{""} }, AuthTokenMalformed},
		{"many duplicates", func(h http.Header) {
			for range 100 {
				h.Add("Authorization", "Bearer SECRETDUP")
			}
		}, AuthTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			handler := NewHandler(http.NotFoundHandler(), "api", h.opts(WithValidator(testValidator))...)
			r := get("/")
			tt.set(r.Header)
			res := serve(handler, r)
			assert.Contains(t, []int{400, 401}, res.StatusCode)
			assert.Equal(t, string(tt.event), attrMap(h.spans.Ended()[0].Attributes())[AuthEventKey])
			h.requireAbsent(t, "SECRETBIN", "SECRETWRONG", "SECRETDUP", huge[:64])
		})
	}
}

func TestHandlerKeepsRoutePattern(t *testing.T) {
	h := newHarness(t)
	serve(NewHandler(dataMux(h.tp), "api", h.opts()...), bearer(get("/api/data/x-1"), "tok"))
	h.span(t, "GET /api/data/{id}")

	// A refused request never reaches the mux; its span is named after the
	// route all the same.
	h2 := newHarness(t)
	res := serve(NewHandler(dataMux(h2.tp), "api", h2.opts(WithValidator(testValidator))...), get("/api/data/x-1"))
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	h2.span(t, "GET /api/data/{id}")
}

func TestHandlerWarnsWithoutProcessor(t *testing.T) {
	h := newHarness(t)
	spans := h.spans
	tp := newBareProvider(spans)
	handler := NewHandler(http.NotFoundHandler(), "api", WithFingerprintKey(testKey), WithLoggerProvider(h.lp),
		WithOtelHTTPOptions(otelhttpTP(tp)))
	serve(handler, bearer(get("/"), "tok"))
	server := attrMap(spans.Ended()[0].Attributes())
	assert.Equal(t, newFingerprinter(newKey(testKey)).Fingerprint("tok"), server[TokenFingerprintKey])
	assert.Equal(t, "192.0.2.1", server[ClientAddressKey])
}

func TestTransport(t *testing.T) {
	h := newHarness(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer backend.Close()
	client := &http.Client{Transport: NewTransport(nil, h.opts()...)}
	handler := NewHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL, nil)
		out.Header.Set("Authorization", "Bearer outgoing-secret")
		res, err := client.Do(out)
		if assert.NoError(t, err) {
			_ = res.Body.Close()
		}
	}), "api", h.opts()...)
	serve(handler, bearer(get("/"), "incoming-secret"))

	var clientSpan map[attribute.Key]string
	for _, s := range h.spans.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			clientSpan = attrMap(s.Attributes())
		}
	}
	require.NotNil(t, clientSpan)
	fpr := newFingerprinter(newKey(testKey))
	assert.Equal(t, fpr.Fingerprint("incoming-secret"), clientSpan[TokenFingerprintKey])
	assert.Equal(t, fpr.Fingerprint("outgoing-secret"), clientSpan[TokenOutgoingFingerprintKey])
	h.requireAbsent(t, "incoming-secret", "outgoing-secret")
}

func TestAuditSuccessOff(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator), WithAuditSuccess(false))...)
	serve(handler, bearer(get("/api/data/alice-1"), tokAlice))
	assert.Empty(t, h.logs.records())
	serve(handler, bearer(get("/api/data/alice-1"), tokExpired))
	assert.Len(t, h.logs.records(), 1)
}

func TestHandlerPanicStillAudited(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), "api", h.opts()...)
	assert.Panics(t, func() { serve(handler, bearer(get("/"), "tok")) })
	recs := h.logs.records()
	require.Len(t, recs, 1)
	assert.NotContains(t, recordAttrs(recs[0]), httpStatusKey)

	// A panicking validator is recovered: see TestValidationFaults.
}

func TestFromContextOutsideRequest(t *testing.T) {
	_, ok := FromContext(context.Background())
	assert.False(t, ok)
	assert.Nil(t, Attributes(context.Background()))
	RecordAuthn(context.Background(), AuthTokenValid, &Claims{}) // no-op, no panic
}

func TestAuditRecordHasNoDuplicateKeys(t *testing.T) {
	h := newHarness(t)
	handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator))...)
	serve(handler, bearer(get("/api/data/alice-1"), tokAlice))
	recs := h.logs.records()
	require.NotEmpty(t, recs)
	for _, r := range recs {
		seen := map[attribute.Key]bool{}
		r.WalkAttributes(func(kv attribute.KeyValue) bool {
			assert.False(t, seen[kv.Key], "duplicate %s in %s", kv.Key, r.EventName())
			seen[kv.Key] = true
			return true
		})
	}
}

// fpSampler records what a Sampler sees of the request's auth state.
type fpSampler struct{ seen []string }

func (s *fpSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	info, _ := FromContext(p.ParentContext)
	s.seen = append(s.seen, info.Fingerprint+"/"+string(info.Event))
	return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
}
func (*fpSampler) Description() string { return "fp" }

func TestSamplerSeesAuthState(t *testing.T) {
	s := &fpSampler{}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s), sdktrace.WithSpanProcessor(NewSpanProcessor()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	handler := NewHandler(http.NotFoundHandler(), "api", WithFingerprintKey(testKey),
		WithOtelHTTPOptions(otelhttpTP(tp)))
	serve(handler, bearer(get("/"), tokAlice))
	require.Len(t, s.seen, 1)
	assert.Equal(t, newFingerprinter(newKey(testKey)).Fingerprint(tokAlice)+"/token_unverified", s.seen[0])
}

// The audit records' own text and attributes must pass the default
// redactor unchanged, or every record would arrive mangled and counted.
func TestAuditRecordsSurviveRedaction(t *testing.T) {
	r, err := NewRedactor()
	require.NoError(t, err)
	for _, why := range []string{whyDuplicateHeader, whyTooLarge, whyEmptyHeader, whyBadScheme,
		whyEmptyToken, whyBadToken, whyManyMethods, whyManyParams, whyEmptyParam} {
		_, changed := r.String("", "authentication result: token_malformed: "+why)
		assert.False(t, changed, why)
	}
	for _, tok := range []string{tokAlice, tokBob, tokExpired, "forged.token"} {
		h := newHarness(t)
		handler := NewHandler(dataMux(h.tp), "api", h.opts(WithValidator(testValidator))...)
		serve(handler, bearer(get("/api/data/alice-1"), tok))
		serve(handler, get("/api/data/alice-1"))
		r2 := get("/api/data/alice-1")
		r2.Header.Set("Authorization", "Bearer ")
		serve(handler, r2)
		for _, rec := range h.logs.records() {
			body, changed := r.String("", rec.Body().AsString())
			assert.False(t, changed, "body redacted: %q", body)
			rec.WalkAttributes(func(kv attribute.KeyValue) bool {
				got, changed := r.e.KeyValue(kv)
				assert.False(t, changed, "%s redacted to %s", kv.Key, got.Value.String())
				return true
			})
		}
	}
}
