package logbridge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
	"github.com/otelbearer/otelbearer/logbridge"
)

func TestHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return logbridge.NewHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	})
}

// jsonLogger returns a logger writing JSON lines through logbridge into buf.
func jsonLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(logbridge.NewHandler(slog.NewJSONHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})))
}

func decode(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(line, &m), "%s", line)
	return m
}

func TestHandlerStampsTopLevel(t *testing.T) {
	fp := fingerprint(tokGood)
	tests := []struct {
		name string
		log  func(ctx context.Context, l *slog.Logger)
		want map[string]any // besides the stamped attributes
	}{
		{
			name: "plain",
			log:  func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "a", 1) },
			want: map[string]any{"a": 1.0},
		},
		{
			name: "group",
			log: func(ctx context.Context, l *slog.Logger) {
				l.WithGroup("g").InfoContext(ctx, "m", "a", 1)
			},
			want: map[string]any{"g": map[string]any{"a": 1.0}},
		},
		{
			name: "attrs then nested groups",
			log: func(ctx context.Context, l *slog.Logger) {
				l.With("top", "t").WithGroup("g").With("x", "y").WithGroup("h").InfoContext(ctx, "m", "a", 1)
			},
			want: map[string]any{"top": "t", "g": map[string]any{"x": "y", "h": map[string]any{"a": 1.0}}},
		},
		{
			name: "empty inner group dropped",
			log: func(ctx context.Context, l *slog.Logger) {
				l.WithGroup("g").With("x", "y").WithGroup("h").InfoContext(ctx, "m")
			},
			want: map[string]any{"g": map[string]any{"x": "y"}},
		},
		{
			name: "empty groups dropped",
			log: func(ctx context.Context, l *slog.Logger) {
				l.WithGroup("g").WithGroup("h").InfoContext(ctx, "m")
			},
			want: map[string]any{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := jsonLogger(&buf)
			serve(t, "Bearer "+tokGood, "/items/1", func(_ http.ResponseWriter, r *http.Request) {
				tt.log(r.Context(), l)
			})
			got := decode(t, buf.Bytes())
			want := map[string]any{
				"level": "INFO", "msg": "m",
				"token.fingerprint": fp, "auth.event": "token_valid",
				"authz.decision": "none", "user.id": "alice",
			}
			for k, v := range tt.want {
				want[k] = v
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestHandlerOutsideRequest(t *testing.T) {
	var buf bytes.Buffer
	jsonLogger(&buf).InfoContext(t.Context(), "m", "a", 1)
	assert.Equal(t, map[string]any{"level": "INFO", "msg": "m", "a": 1.0}, decode(t, buf.Bytes()))
}

// secretValuer hides a credential behind a LogValuer.
type secretValuer string

func (s secretValuer) LogValue() slog.Value { return slog.StringValue("Bearer " + string(s)) }

type withAuth struct{ Authorization string }

func TestHandlerRedacts(t *testing.T) {
	const c = "cnryHandler0001"
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjbnJ5In0.cnryHandlerSig0001"
	u, err := url.Parse("https://user:" + c + "@api.example/x?access_token=" + c)
	require.NoError(t, err)
	tests := []struct {
		name string
		log  func(ctx context.Context, l *slog.Logger)
	}{
		{"message", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "sent Authorization: Bearer "+c) }},
		{"authorization attr", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "authorization", "Bearer "+c) }},
		{"password attr", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "password", c) }},
		{"jwt anywhere", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "note", "tok "+jwt) }},
		{"http.Header", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "headers", http.Header{"Authorization": {"Bearer " + c}, "X-Goog-Api-Key": {c}, "Accept": {"*/*"}})
		}},
		{"url.Values", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "form", url.Values{"access_token": {c}})
		}},
		{"map[string][]string", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "h", map[string][]string{"Authorization": {"Bearer " + c}})
		}},
		{"map[string]string", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "h", map[string]string{"api_key": c})
		}},
		{"map[string]any", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "h", map[string]any{"nested": map[string]any{"token": c}})
		}},
		{"[]string", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "v", []string{"ok", "Bearer " + c}) }},
		{"[]any", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "v", []any{1, "Bearer " + c}) }},
		{"[]byte", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "raw", []byte("Authorization: Bearer "+c))
		}},
		{"group", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", slog.Group("req", slog.String("token", c)))
		}},
		{"WithGroup and WithAttrs", func(ctx context.Context, l *slog.Logger) {
			l.With("secret", c).WithGroup("g").With("authorization", "Bearer "+c).InfoContext(ctx, "m", "api_key", c)
		}},
		{"LogValuer", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "v", secretValuer(c)) }},
		{"LogValuer in group", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", slog.Group("g", slog.Any("v", secretValuer(c))))
		}},
		{"error", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "err", fmt.Errorf("GET %s: refused", u.String()))
		}},
		{"Stringer", func(ctx context.Context, l *slog.Logger) { l.InfoContext(ctx, "m", "url", u) }},
		{"struct", func(ctx context.Context, l *slog.Logger) {
			l.InfoContext(ctx, "m", "v", withAuth{Authorization: "Bearer " + c})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The text handler prints []byte as text, the JSON one as base64.
			var bare, wrapped, wrappedText bytes.Buffer
			serve(t, "Bearer "+tokGood, "/", func(_ http.ResponseWriter, r *http.Request) {
				tt.log(r.Context(), slog.New(slog.NewTextHandler(&bare, nil)))
				tt.log(r.Context(), jsonLogger(&wrapped))
				tt.log(r.Context(), slog.New(logbridge.NewHandler(slog.NewTextHandler(&wrappedText, nil))))
			})
			require.Contains(t, bare.String(), "cnry", "the plant must leak without logbridge")
			assert.NotContains(t, wrapped.String(), "cnry")
			assert.NotContains(t, wrappedText.String(), "cnry")
			assert.Contains(t, wrappedText.String(), otelbearer.Redacted)
			decode(t, wrapped.Bytes()) // still valid JSON
		})
	}
}

func TestHandlerKeepsSchemeAndPlainValues(t *testing.T) {
	var buf bytes.Buffer
	jsonLogger(&buf).InfoContext(t.Context(), "m",
		"headers", http.Header{"Authorization": {"Bearer abc.def"}, "Accept": {"*/*"}}, "n", 3, "s", "hello")
	got := decode(t, buf.Bytes())
	assert.Equal(t, map[string]any{"Authorization": []any{"Bearer REDACTED"}, "Accept": []any{"*/*"}}, got["headers"])
	assert.Equal(t, 3.0, got["n"])
	assert.Equal(t, "hello", got["s"])
	assert.False(t, strings.Contains(buf.String(), "abc.def"))
}
