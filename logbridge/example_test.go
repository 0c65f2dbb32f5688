package logbridge_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/logbridge"
)

// A JSON logger wrapped by logbridge: the request's attributes are stamped
// at the top level, outside the caller's group, and the Bearer token the
// handler carelessly logs is redacted.
func ExampleNewHandler() {
	logger := slog.New(logbridge.NewHandler(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{} // stable output
			}
			return a
		},
	})))

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.WithGroup("upstream").InfoContext(r.Context(), "calling billing",
			"authorization", r.Header.Get("Authorization"))
	})
	h := otelbearer.NewHandler(api, "api",
		otelbearer.WithFingerprintKey([]byte("example-fingerprint-key")),
		otelbearer.WithValidator(otelbearer.ValidatorFunc(
			func(context.Context, string) (otelbearer.Claims, error) {
				return otelbearer.Claims{Subject: "alice"}, nil
			})),
	)

	req := httptest.NewRequest(http.MethodGet, "/invoices/7", nil)
	req.Header.Set("Authorization", "Bearer s3cr3t-t0ken")
	h.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// {"level":"INFO","msg":"calling billing","token.fingerprint":"c4980e71865e4f14fb92384b5b8921e1","auth.event":"token_valid","authz.decision":"none","user.id":"alice","upstream":{"authorization":"Bearer REDACTED"}}
}
