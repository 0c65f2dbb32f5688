package otelbearer

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// Names of the auth metrics. Both are monotonic counters; their attributes
// are bounded sets (never the fingerprint, user, resource or client
// address), so an alert on a rate needs no log query and a dashboard can
// keep them for months.
const (
	// AuthnOutcomesMetric counts requests by authentication outcome, once
	// per request at its end. Unit {request}. Attributes: auth.event,
	// http.route (when the router sets one), http.request.method.
	AuthnOutcomesMetric = "otelbearer.authn.outcomes"
	// AuthzDecisionsMetric counts authorization decisions, once per
	// [Allow] / [Deny] call under the middleware. Unit {decision}.
	// Attributes: authz.decision, authz.reason, http.route (when known),
	// http.request.method. authz.reason is whatever the application passes:
	// keep it a small fixed set ("owner", "not_owner"), never an identifier.
	AuthzDecisionsMetric = "otelbearer.authz.decisions"
)

// httpRouteKey is the semantic-convention http.route.
const httpRouteKey = attribute.Key("http.route")

// authMetrics holds the instruments, created once per constructor.
type authMetrics struct {
	authn metric.Int64Counter
	authz metric.Int64Counter
}

// newAuthMetrics creates the instruments from mp (the global MeterProvider
// when nil). An instrument that cannot be created is reported to
// otel.Handle and replaced by one that records nothing.
func newAuthMetrics(mp metric.MeterProvider) *authMetrics {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	m := &authMetrics{}
	var err error
	m.authn, err = meter.Int64Counter(AuthnOutcomesMetric, metric.WithUnit("{request}"),
		metric.WithDescription("Requests by authentication outcome (auth.event)."))
	if err != nil {
		otel.Handle(err)
	}
	m.authz, err = meter.Int64Counter(AuthzDecisionsMetric, metric.WithUnit("{decision}"),
		metric.WithDescription("Authorization decisions by authz.decision and authz.reason."))
	if err != nil {
		otel.Handle(err)
	}
	return m
}

// routeOf is the http.route of a request a ServeMux dispatched (its pattern
// without method and host), or "".
func routeOf(r *http.Request) string {
	if r == nil {
		return ""
	}
	for i := 0; i < len(r.Pattern); i++ {
		if r.Pattern[i] == '/' {
			return r.Pattern[i:]
		}
	}
	return ""
}

// countAuthn adds the request's final authentication outcome. It costs one
// Enabled call when no MeterProvider is installed.
func (st *requestState) countAuthn(ctx context.Context, r *http.Request) {
	m := st.cfg.metrics
	if m == nil || m.authn == nil || !m.authn.Enabled(ctx) {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 3)
	attrs = append(attrs, AuthEventKey.String(string(st.view.Load().event)), httpMethodKey.String(st.method))
	if route := routeOf(r); route != "" {
		attrs = append(attrs, httpRouteKey.String(route))
	}
	m.authn.Add(ctx, 1, metric.WithAttributes(attrs...))
}

// countAuthz adds one authorization decision.
func (st *requestState) countAuthz(ctx context.Context, d AuthzDecision, reason string) {
	m := st.cfg.metrics
	if m == nil || m.authz == nil || !m.authz.Enabled(ctx) {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, AuthzDecisionKey.String(string(d)), AuthzReasonKey.String(reason),
		httpMethodKey.String(st.method))
	if route := routeOf(st.req); route != "" {
		attrs = append(attrs, httpRouteKey.String(route))
	}
	m.authz.Add(ctx, 1, metric.WithAttributes(attrs...))
}
