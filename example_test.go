package otelbearer_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelbearer/otelbearer"
)

// A validator that knows one token; real ones check a JWT or ask an
// introspection endpoint.
var validator = otelbearer.ValidatorFunc(func(_ context.Context, tok string) (otelbearer.Claims, error) {
	if tok == "s3cr3t-token" {
		return otelbearer.Claims{Subject: "alice", Scopes: []string{"read"}}, nil
	}
	return otelbearer.Claims{}, otelbearer.ErrTokenInvalid
})

func ExampleNewHandler() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSpanProcessor(otelbearer.NewSpanProcessor()),
		sdktrace.WithSpanProcessor(spans),
	)

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := otelbearer.ClaimsFromContext(r.Context())
		if !strings.HasPrefix(r.URL.Path, "/data/"+claims.Subject+"-") {
			otelbearer.Deny(r.Context(), "not_owner", r.URL.Path)
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		otelbearer.Allow(r.Context(), "owner", r.URL.Path)
	})
	h := otelbearer.NewHandler(api, "api",
		otelbearer.WithFingerprintKey([]byte("example-fingerprint-key")),
		otelbearer.WithValidator(validator),
		otelbearer.WithTracerProvider(tp),
	)

	for _, target := range []string{"/data/alice-1", "/data/bob-1"} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Authorization", "Bearer s3cr3t-token")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(target, w.Code)
	}
	r := httptest.NewRequest(http.MethodGet, "/data/alice-1", nil)
	r.Header.Set("Authorization", "Bearer forged")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))

	for _, s := range spans.Ended() {
		var out []string
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case otelbearer.TokenFingerprintKey, otelbearer.AuthEventKey, otelbearer.AuthzDecisionKey, otelbearer.UserIDKey:
				out = append(out, string(kv.Key)+"="+kv.Value.String())
			}
		}
		fmt.Println(strings.Join(out, " "))
	}
	// Output:
	// /data/alice-1 200
	// /data/bob-1 403
	// 401 Bearer error="invalid_token", error_description="the access token is invalid"
	// token.fingerprint=36fcd38bc2528b7235c475bb38040c01 auth.event=token_valid authz.decision=allow user.id=alice
	// token.fingerprint=36fcd38bc2528b7235c475bb38040c01 auth.event=token_valid authz.decision=deny user.id=alice
	// token.fingerprint=3260b59e7b2ac82feb062a804dd39430 auth.event=token_invalid authz.decision=none
}

// The CLI and a responder compute the fingerprint the middleware records
// for a known token under the same key, to find it in the telemetry.
func ExampleNewFingerprinter() {
	f, err := otelbearer.NewFingerprinter([]byte("example-fingerprint-key"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Fingerprint("s3cr3t-token"))
	_, err = otelbearer.NewFingerprinter([]byte("short"))
	fmt.Println(errors.Is(err, otelbearer.ErrShortKey))
	// Output:
	// 36fcd38bc2528b7235c475bb38040c01
	// true
}
