package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelbearer/otelbearer"
)

// app holds what the handlers share.
type app struct {
	log        *slog.Logger
	tracer     trace.Tracer
	client     *http.Client
	pricingURL string
	service    *serviceToken
}

// routes returns the service's routes. NewHandler wraps them.
func (a *app) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("GET /api/data/{id}", otelbearer.RequireScopes(http.HandlerFunc(a.data), "read"))
	mux.HandleFunc("GET /internal/pricing", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"currency": "EUR", "amount_cents": 1299})
	})
	return mux
}

// record is a row of the fake database.
type record struct {
	ID    string `json:"id"`
	Owner string `json:"owner"`
	Value string `json:"value"`
}

// data serves GET /api/data/{id}. Resource ids are "<owner>-<n>"; only
// the owner may read one (the check whose absence is broken object-level
// authorization).
func (a *app) data(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	claims, ok := otelbearer.ClaimsFromContext(ctx)
	if !ok { // RequireScopes answered already; defensive
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	rec, found := a.lookup(r, id)
	if !found {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found"})
		return
	}
	if rec.Owner != claims.Subject {
		otelbearer.Deny(ctx, "not_owner", id)
		// The classic Django/Flask mistake: dumping the request headers while
		// investigating a denial. logbridge redacts the Authorization
		// header to "Bearer REDACTED" before the record leaves the process.
		a.log.WarnContext(ctx, "access denied", "id", id, "headers", r.Header)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "forbidden"})
		return
	}
	otelbearer.Allow(ctx, "owner", id)
	price, err := a.price(r)
	if err != nil {
		a.log.WarnContext(ctx, "pricing unavailable", "id", id, "error", err)
	}
	a.log.InfoContext(ctx, "data served", "id", id)
	writeJSON(w, http.StatusOK, map[string]any{"data": rec, "price": price})
}

// lookup is the fake database: it finds any well-formed id after a
// short delay, inside a "db.lookup" span that starts before the
// ownership decision (so it carries authz.decision=none).
func (a *app) lookup(r *http.Request, id string) (record, bool) {
	_, span := a.tracer.Start(r.Context(), "db.lookup", trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", "memory")))
	defer span.End()
	time.Sleep(time.Millisecond + rand.N(4*time.Millisecond))
	i := strings.LastIndexByte(id, '-')
	if i <= 0 {
		return record{}, false
	}
	if n, err := strconv.Atoi(id[i+1:]); err != nil || n < 0 {
		return record{}, false
	}
	return record{ID: id, Owner: id[:i], Value: "record " + id}, true
}

// price calls GET /internal/pricing through otelbearer.NewTransport with
// the service's own credential, so the client span carries
// token.outgoing.fingerprint next to the caller's token.fingerprint.
func (a *app) price(r *http.Request) (any, error) {
	tok, err := a.service.get(time.Now())
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, a.pricingURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := a.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) { // *url.Error prints the URL; keep only the cause
			err = uerr.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("pricing: status %d", resp.StatusCode)
	}
	var v any
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 64<<10)).Decode(&v); err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	return v, nil
}

// serviceToken is the service's own credential for internal calls:
// minted at startup, re-minted shortly before it expires.
type serviceToken struct {
	key []byte
	mu  sync.Mutex
	tok string
	exp time.Time
}

const serviceTokenTTL = time.Hour

func newServiceToken(key []byte) *serviceToken { return &serviceToken{key: key} }

// get returns a token valid for at least five more minutes.
func (s *serviceToken) get(now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != "" && now.Before(s.exp.Add(-5*time.Minute)) {
		return s.tok, nil
	}
	tok, err := mint(s.key, "service:"+defaultServiceName, []string{"pricing"}, serviceTokenTTL, randomID(), now)
	if err != nil {
		return "", fmt.Errorf("service token: %w", err)
	}
	s.tok, s.exp = tok, now.Add(serviceTokenTTL)
	return tok, nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
