package logbridge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/bridges/otelslog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelbearer/otelbearer/logbridge"
)

// newCanary returns a 40-character token that cannot occur in any output
// unless it was copied there: fresh random letters and digits, no known
// key-format prefix, no JWT shape. Value rules cannot recognise it, so
// only the key it sits under can get it redacted.
func newCanary(t testing.TB) string {
	t.Helper()
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 40)
	_, err := rand.Read(b)
	require.NoError(t, err)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	b[0] = 'q' // a letter: never a number, never a known prefix
	return string(b)
}

// oauthToken has the exported fields and JSON tags of *oauth2.Token.
type oauthToken struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	raw          any
}

// plainToken is oauthToken without JSON tags: encoding/json prints the
// Go field names (AccessToken), which no lowercase key rule matches.
type plainToken struct {
	AccessToken  string
	TokenType    string
	RefreshToken string
	Expiry       time.Time
}

type creds struct {
	User         string
	ClientSecret string
}

type inner struct{ Creds *creds }

type outer struct {
	Service string
	Inner   *inner
}

// marshalerToken hides its secret from %+v (unexported field) but prints
// it from MarshalJSON, which is what slog.JSONHandler calls.
type marshalerToken struct{ v, user string }

func (m marshalerToken) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"token": m.v, "user": m.user})
}

// textToken hides its secret from %+v and prints it from MarshalText, which
// is what slog.TextHandler (and encoding/json) call.
type textToken struct{ v string }

func (m textToken) MarshalText() ([]byte, error) {
	return []byte("Bearer " + m.v), nil
}

// stringerSession's String is harmless, but slog.JSONHandler ignores it and
// encodes the exported fields.
type stringerSession struct {
	User        string
	AccessToken string
}

func (s stringerSession) String() string { return "session of " + s.User }

// goSyntaxStringer prints its fields the way %+v does.
type goSyntaxStringer struct{ tok plainToken }

func (s goSyntaxStringer) String() string { return fmt.Sprintf("%+v", s.tok) }

// tokenError prints the token it wraps in Go syntax.
type tokenError struct{ Tok *plainToken }

func (e *tokenError) Error() string { return fmt.Sprintf("token %+v rejected", *e.Tok) }

// jsonError is an error that is also a json.Marshaler: slog.JSONHandler
// prints its MarshalJSON, not its Error.
type jsonError struct{ tok oauthToken }

func (e jsonError) Error() string                { return "refresh failed" }
func (e jsonError) MarshalJSON() ([]byte, error) { return json.Marshal(e.tok) }

// structValuer resolves to a group holding Any values.
type structValuer struct{ tok *plainToken }

func (v structValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "bob"), slog.Any("oauth", v.tok), slog.Any("list", []creds{{"bob", v.tok.AccessToken}}))
}

type blob []byte

// leakCase logs one value shape holding canary c; keep lists text that must
// still be in the output.
type leakCase struct {
	name  string
	log   func(ctx context.Context, l *slog.Logger, c string)
	keep  []string
	bytes func(c string) []byte // raw bytes that must not appear base64-encoded either
}

func leakCases() []leakCase {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	return []leakCase{
		{name: "nested pointer structs", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "cfg", &outer{Service: "billing", Inner: &inner{Creds: &creds{User: "bob", ClientSecret: c}}})
		}, keep: []string{"billing", "bob"}},
		{name: "json tags", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "tok", oauthToken{AccessToken: c, TokenType: "Bearer", ExpiresIn: 3600})
		}, keep: []string{"Bearer", "3600"}},
		{name: "oauth2.Token-like pointer", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "tok", &oauthToken{AccessToken: c, TokenType: "Bearer", RefreshToken: c + "r", Expiry: exp, raw: map[string]any{"id_token": c}})
		}, keep: []string{"Bearer", "2030"}},
		{name: "untagged token struct", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "tok", &plainToken{AccessToken: c, TokenType: "Bearer", RefreshToken: c + "r", Expiry: exp})
		}, keep: []string{"Bearer", "2030"}},
		{name: "json.RawMessage", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "body", json.RawMessage(`{"refresh_token":"`+c+`","scope":"items:read"}`))
		}, keep: []string{"items:read"}},
		{name: "named byte slice", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "body", blob("Authorization: Bearer "+c+"\nAccept: text/plain"))
		}, bytes: func(c string) []byte {
			return []byte("Authorization: Bearer " + c + "\nAccept: text/plain")
		}},
		{name: "[]byte field", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "req", struct{ Raw []byte }{[]byte("Authorization: Bearer " + c)})
		}, bytes: func(c string) []byte { return []byte("Authorization: Bearer " + c) }},
		{name: "named map", log: func(ctx context.Context, l *slog.Logger, c string) {
			type params map[string]string
			l.InfoContext(ctx, "m", "p", params{"clientSecret": c, "grant": "client_credentials"})
		}, keep: []string{"client_credentials"}},
		{name: "named slice", log: func(ctx context.Context, l *slog.Logger, c string) {
			type list []creds
			l.InfoContext(ctx, "m", "p", list{{User: "bob", ClientSecret: c}})
		}, keep: []string{"bob"}},
		{name: "json.Marshaler", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "tok", marshalerToken{v: c, user: "bob"})
		}, keep: []string{"bob"}},
		{name: "encoding.TextMarshaler", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "tok", textToken{v: c}, "n", "kept")
		}, keep: []string{"kept"}},
		{name: "map with secret keys", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "m", map[string]any{"accessToken": c, "user": "bob",
				"nested": map[string]any{"client_secret": c, "creds": creds{"eve", c}}, "n": 7})
		}, keep: []string{"bob", "eve"}},
		{name: "map of structs", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "m", map[string]*plainToken{"alice": {AccessToken: c, TokenType: "Bearer"}})
		}, keep: []string{"alice", "Bearer"}},
		{name: "slice of structs", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "all", []creds{{"bob", c}, {"eve", c}})
		}, keep: []string{"bob", "eve"}},
		{name: "[]any of structs", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "all", []any{"x", &creds{"bob", c}})
		}, keep: []string{"bob"}},
		{name: "secret under a sensitive key", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "credentials", struct{ User, Pass string }{"bob", c})
		}},
		{name: "error printing a struct", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "err", fmt.Errorf("refresh: %w", &tokenError{&plainToken{AccessToken: c, TokenType: "Bearer"}}))
		}, keep: []string{"refresh", "rejected"}},
		{name: "error that is a json.Marshaler", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "err", jsonError{oauthToken{AccessToken: c}})
		}, keep: []string{"refresh failed"}},
		{name: "errors.Join", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "err", errors.Join(errors.New("first"), &tokenError{&plainToken{RefreshToken: c}}))
		}, keep: []string{"first"}},
		{name: "LogValuer group with Any values", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "v", structValuer{&plainToken{AccessToken: c, TokenType: "Bearer"}})
		}, keep: []string{"bob", "Bearer"}},
		{name: "fmt.Stringer struct", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "s", stringerSession{User: "bob", AccessToken: c})
		}, keep: []string{"bob"}},
		{name: "fmt.Stringer in Go syntax", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "s", goSyntaxStringer{plainToken{AccessToken: c, TokenType: "Bearer"}})
		}, keep: []string{"Bearer"}},
		{name: "struct printed into the message", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, fmt.Sprintf("got %+v", plainToken{AccessToken: c, TokenType: "Bearer"}))
		}, keep: []string{"Bearer"}},
		{name: "camelCase key", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.InfoContext(ctx, "m", "clientSecret", c, slog.Group("g", slog.String("apiKey", c)), "user", "bob")
		}, keep: []string{"bob"}},
		{name: "WithAttrs struct", log: func(ctx context.Context, l *slog.Logger, c string) {
			l.With("tok", &plainToken{AccessToken: c}).WithGroup("g").With("c", creds{"bob", c}).InfoContext(ctx, "m")
		}, keep: []string{"bob"}},
	}
}

// TestHandlerNoLeakByShape plants a fresh canary in each value shape and
// logs it through logbridge over the JSON and the text handler: the
// canary's bytes must be absent and the other fields present.
func TestHandlerNoLeakByShape(t *testing.T) {
	for _, tt := range leakCases() {
		t.Run(tt.name, func(t *testing.T) {
			c := newCanary(t)
			var bare, js, txt bytes.Buffer
			serve(t, "Bearer "+tokGood, "/", func(_ http.ResponseWriter, r *http.Request) {
				tt.log(r.Context(), slog.New(slog.NewJSONHandler(&bare, nil)), c)
				tt.log(r.Context(), slog.New(slog.NewTextHandler(&bare, nil)), c)
				tt.log(r.Context(), slog.New(logbridge.NewHandler(slog.NewJSONHandler(&js, nil))), c)
				tt.log(r.Context(), slog.New(logbridge.NewHandler(slog.NewTextHandler(&txt, nil))), c)
			})
			if tt.bytes == nil {
				require.Contains(t, bare.String(), c, "the plant must leak without logbridge")
			}
			for name, out := range map[string]string{"json": js.String(), "text": txt.String()} {
				assert.NotContains(t, out, c, "%s: %s", name, out)
				if tt.bytes != nil {
					assert.NotContains(t, out, base64.StdEncoding.EncodeToString(tt.bytes(c)), "%s: %s", name, out)
				}
				for _, k := range tt.keep {
					assert.Contains(t, out, k, "%s: %s", name, out)
				}
				assert.Contains(t, out, "token.fingerprint", name)
			}
			decode(t, js.Bytes()) // still one valid JSON object
		})
	}
}

// TestHandlerNoLeakOutsideRequest runs the same shapes without a request
// context (nothing stamped), through WithGroup.
func TestHandlerNoLeakOutsideRequest(t *testing.T) {
	for _, tt := range leakCases() {
		t.Run(tt.name, func(t *testing.T) {
			c := newCanary(t)
			var js, txt bytes.Buffer
			tt.log(t.Context(), slog.New(logbridge.NewHandler(slog.NewJSONHandler(&js, nil))).WithGroup("app"), c)
			tt.log(t.Context(), slog.New(logbridge.NewHandler(slog.NewTextHandler(&txt, nil))).WithGroup("app"), c)
			assert.NotContains(t, js.String(), c)
			assert.NotContains(t, txt.String(), c)
			assert.False(t, strings.Contains(js.String(), "!ERROR"), js.String())
		})
	}
}

// TestOTLPNoLeakByShape logs every shape through logbridge over otelslog,
// exported by the real OTLP gRPC exporter to an in-process receiver: no
// canary reaches the wire, the fields around it do.
func TestOTLPNoLeakByShape(t *testing.T) {
	p := newPipeline(t, false, sdktrace.AlwaysSample())
	logger := slog.New(logbridge.NewHandler(otelslog.NewHandler("app", otelslog.WithLoggerProvider(p.lp))))
	cases := leakCases()
	canaries := make([]string, len(cases))
	for i := range cases {
		canaries[i] = newCanary(t)
	}
	serve(t, "Bearer "+tokGood, "/p", func(_ http.ResponseWriter, r *http.Request) {
		for i, tt := range cases {
			tt.log(r.Context(), logger, canaries[i])
		}
	}, p.options()...)
	p.shutdown(t)
	require.GreaterOrEqual(t, p.rcv.LogCount(), len(cases))
	wire := p.rcv.Bytes()
	for i, tt := range cases {
		assert.False(t, bytes.Contains(wire, []byte(canaries[i])), tt.name)
		if tt.bytes != nil {
			assert.False(t, bytes.Contains(wire, tt.bytes(canaries[i])), tt.name)
		}
		for _, k := range tt.keep {
			if _, err := strconv.Atoi(k); err == nil {
				continue // an int on the wire, not text
			}
			assert.True(t, bytes.Contains(wire, []byte(k)), "%s: %s", tt.name, k)
		}
	}
}

// TestOTLPErrorStaysException: an error attribute stays an error for
// otelslog, so the record keeps exception.type of the original error and
// exception.message carries the redacted text.
func TestOTLPErrorStaysException(t *testing.T) {
	p := newPipeline(t, false, sdktrace.AlwaysSample())
	logger := slog.New(logbridge.NewHandler(otelslog.NewHandler("app", otelslog.WithLoggerProvider(p.lp))))
	c := newCanary(t)
	serve(t, "Bearer "+tokGood, "/p", func(_ http.ResponseWriter, r *http.Request) {
		logger.ErrorContext(r.Context(), "refresh failed", "err",
			fmt.Errorf("refresh: %w", &tokenError{&plainToken{AccessToken: c, TokenType: "Bearer"}}))
	}, p.options()...)
	p.shutdown(t)
	assert.False(t, p.rcv.Contains(c))
	var got map[string]any
	for _, r := range p.records() {
		if r.GetBody().GetStringValue() == "refresh failed" {
			got = attrs(t, r)
		}
	}
	require.NotNil(t, got, "record not received")
	assert.Equal(t, "*logbridge_test.tokenError", got["exception.type"])
	assert.Contains(t, got["exception.message"], "refresh: token {AccessToken:REDACTED TokenType:Bearer")
}
