package otelbearer

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// collectSums reads every int64 sum of reader, keyed by metric name and
// then by the data point's attribute set rendered as "k=v,k=v".
func collectSums(t *testing.T, reader *sdkmetric.ManualReader) (map[string]map[string]int64, metricdata.ResourceMetrics) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			sum, ok := m.Data.(metricdata.Sum[int64])
			if !ok {
				continue
			}
			assert.True(t, sum.IsMonotonic, m.Name)
			pts := map[string]int64{}
			for _, dp := range sum.DataPoints {
				pts[dp.Attributes.Encoded(attribute.DefaultEncoder())] += dp.Value
			}
			out[m.Name] = pts
		}
	}
	return out, rm
}

func TestAuthMetrics(t *testing.T) {
	h := newHarness(t)
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })

	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "mine" {
			Allow(r.Context(), "owner", "/items/mine")
			return
		}
		Deny(r.Context(), "not_owner", "/items/"+r.PathValue("id"))
		w.WriteHeader(http.StatusForbidden)
	})
	handler := NewHandler(mux, "api", h.opts(WithValidator(testValidator), WithMeterProvider(mp))...)

	send := func(method, path, tok string) {
		r := httptest.NewRequest(method, path, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		serve(handler, r).Body.Close()
	}
	send("GET", "/items/mine", tokAlice)
	send("GET", "/items/other", tokAlice)
	send("GET", "/items/b", tokBob)
	send("GET", "/items/x", tokRevoked)
	send("GET", "/items/x", "guess.one")
	send("GET", "/items/x", "guess.two")
	send("GET", "/items/x", "")
	send("BREW", "/items/x", tokExpired) // refused; no GET route matches

	got, rm := collectSums(t, reader)
	route := "http.route=/items/{id}"
	assert.Equal(t, map[string]int64{
		"auth.event=token_valid,http.request.method=GET," + route:   3,
		"auth.event=token_revoked,http.request.method=GET," + route: 1,
		"auth.event=token_invalid,http.request.method=GET," + route: 2,
		"auth.event=token_missing,http.request.method=GET," + route: 1,
		"auth.event=token_expired,http.request.method=_OTHER":       1, // no route matches BREW
	}, got[AuthnOutcomesMetric])
	assert.Equal(t, map[string]int64{
		"authz.decision=allow,authz.reason=owner,http.request.method=GET," + route:    1,
		"authz.decision=deny,authz.reason=not_owner,http.request.method=GET," + route: 2,
	}, got[AuthzDecisionsMetric])

	// Low cardinality: no credential, fingerprint, subject, resource or address.
	dump := fmt.Sprintf("%+v", rm)
	fp := newFingerprinter(newKey(testKey)).Fingerprint(tokAlice)
	for _, s := range []string{tokAlice, tokBob, tokRevoked, "guess.one", fp, "alice", "/items/other", "192.0.2.1"} {
		assert.NotContains(t, dump, s)
	}
}

func TestAuthMetricsUnits(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	handler := NewHandler(http.NotFoundHandler(), "api", WithFingerprintKey(testKey), WithMeterProvider(mp))
	serve(handler, httptest.NewRequest("GET", "/", nil)).Body.Close()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	require.Len(t, rm.ScopeMetrics, 1)
	assert.Equal(t, ScopeName, rm.ScopeMetrics[0].Scope.Name)
	require.Len(t, rm.ScopeMetrics[0].Metrics, 1)
	m := rm.ScopeMetrics[0].Metrics[0]
	assert.Equal(t, AuthnOutcomesMetric, m.Name)
	assert.Equal(t, "{request}", m.Unit)
	// No route: the attribute is left out rather than recorded empty.
	dp := m.Data.(metricdata.Sum[int64]).DataPoints[0]
	_, ok := dp.Attributes.Value(httpRouteKey)
	assert.False(t, ok)
}

// With no MeterProvider installed, counting costs no allocation.
func TestAuthMetricsNoopAllocs(t *testing.T) {
	st := &requestState{cfg: &config{metrics: newAuthMetrics(nil)}, method: "GET"}
	st.first.event = AuthTokenValid
	st.view.Store(&st.first)
	r := httptest.NewRequest("GET", "/", nil)
	allocs := testing.AllocsPerRun(100, func() {
		st.countAuthn(context.Background(), r)
		st.countAuthz(context.Background(), AuthzDeny, "not_owner")
	})
	assert.Zero(t, allocs)
}
