package otelbearer

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of the audit records.
const ScopeName = "github.com/otelbearer/otelbearer"

// Version is the version of this package.
const Version = "0.1.0"

// config is resolved once in the constructor; requests pay nothing for it.
type config struct {
	fp             *Fingerprinter
	validator      Validator
	observeOnly    bool
	public         func(*http.Request) bool
	publicPaths    map[string]struct{}
	otelhttpOpts   []otelhttp.Option
	logger         log.Logger
	auditSuccess   bool
	trusted        []netip.Prefix
	maxHeader      int
	userID         bool
	realm          string
	formTokens     bool
	key            Key
	keyErr         error // a refused key: no fingerprints
	loggerProvider log.LoggerProvider

	validationTimeout time.Duration
	traceTrusted      []netip.Prefix

	meterProvider metric.MeterProvider
	metrics       *authMetrics
}

// Option configures [NewHandler], [NewMiddleware] and [NewTransport].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts ...Option) *config {
	c := &config{auditSuccess: true, userID: true, formTokens: true, maxHeader: DefaultMaxHeaderBytes,
		validationTimeout: DefaultValidationTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.key.IsZero() && c.keyErr == nil {
		c.key, c.keyErr = KeyFromEnv()
	}
	if c.keyErr != nil {
		otel.Handle(c.keyErr) // c.fp stays nil: no fingerprints
	} else {
		c.fp = NewFingerprinter(c.key)
	}
	if c.loggerProvider == nil {
		c.loggerProvider = otel.GetLoggerProvider()
	}
	c.logger = c.loggerProvider.Logger(ScopeName, log.WithInstrumentationVersion(Version))
	c.metrics = newAuthMetrics(c.meterProvider)
	return c
}

// WithFingerprintKey sets the fingerprint key (HMAC-SHA256), used as raw
// bytes. Without this option (or with an empty key) the key is read from
// [FingerprintKeyEnv]; without either, fingerprints are unkeyed SHA-256
// and a warning goes to otel.Handle once. Keep the key secret and the same
// across replicas: same token + same key = same fingerprint.
//
// A key shorter than [MinKeyBytes], given here or in [FingerprintKeyEnv],
// is refused: the error (wrapping [ErrShortKey]) goes to otel.Handle when
// the handler or transport is built, and no fingerprint is recorded at all
// (token.fingerprint and token.outgoing.fingerprint are absent; auth.event,
// enforcement and audit records are unchanged). It is not replaced by an
// unkeyed hash, which would let anyone holding the telemetry test guessed
// tokens against it.
func WithFingerprintKey(key []byte) Option {
	if len(key) == 0 {
		return optionFunc(func(*config) {})
	}
	k, err := ParseKey(key)
	if err != nil {
		err = fmt.Errorf("otelbearer: WithFingerprintKey: %w (%d bytes); no fingerprints are recorded", ErrShortKey, len(key))
	}
	return optionFunc(func(c *config) { c.key, c.keyErr = k, err })
}

// WithValidator sets the token validator. With a validator the middleware
// enforces RFC 6750 (400/401/403/503 with WWW-Authenticate) unless
// [WithObserveOnly] is given. Without one, every well-formed token is
// [AuthTokenUnverified] until the application calls [RecordAuthn].
func WithValidator(v Validator) Option {
	return optionFunc(func(c *config) {
		if v != nil {
			c.validator = v
		}
	})
}

// WithObserveOnly records every outcome but never rejects a request.
func WithObserveOnly() Option {
	return optionFunc(func(c *config) { c.observeOnly = true })
}

// WithPublicPaths marks routes (health checks, login) where a token is
// optional: a request without one records [AuthTokenMissing] with
// auth.optional=true, is not rejected and gets no WARN audit record. A token
// that is present is still validated and enforced. Paths add up over
// several options.
//
// "Public" is decided on exactly what the router dispatches on, so that a
// request the router sends to a protected handler is always enforced,
// however its path is spelled:
//
//   - When the wrapped handler is an [*http.ServeMux], a request is public
//     when the pattern the mux dispatches it to ([http.ServeMux.Handler]) is
//     one of paths, either as registered ("GET /healthz") or without its
//     method and host ("/healthz"). A subtree or wildcard pattern makes
//     everything it matches public. A request the mux answers itself (not
//     found, method not allowed, a redirect to the cleaned path or to the
//     path with a trailing slash) is not public.
//   - Any other handler: a request is public when its escaped path
//     ([url.URL.EscapedPath]) equals one of paths byte for byte. There is no
//     normalisation: "/healthz/", "/HEALTHZ", "//healthz", "/a/../healthz",
//     "/healthz;x" and "/%68ealthz" are not "/healthz" and are enforced.
//     Give paths as they are sent, percent-encoded where they need it.
//
// A ServeMux behind another middleware is "any other handler": wrap the mux
// itself to have its patterns used.
func WithPublicPaths(paths ...string) Option {
	return optionFunc(func(c *config) {
		if c.publicPaths == nil {
			c.publicPaths = make(map[string]struct{}, len(paths))
		}
		for _, p := range paths {
			c.publicPaths[p] = struct{}{}
		}
	})
}

// WithPublicRoutes marks public routes by a predicate, for routers other
// than [*http.ServeMux]; it adds to [WithPublicPaths] (a request is public
// when either says so) and replaces an earlier WithPublicRoutes. fn is
// called once per request, before the server span starts and before the
// router has seen the request: it must decide on what the router will
// dispatch on (the escaped path, r.URL.EscapedPath(), or the router's own
// lookup), never on the decoded r.URL.Path, where "%2F" is a "/".
func WithPublicRoutes(fn func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.public = fn
		}
	})
}

// WithOtelHTTPOptions passes options to the wrapped otelhttp handler or
// transport (tracer provider, propagators, span name formatter, …).
func WithOtelHTTPOptions(opts ...otelhttp.Option) Option {
	return optionFunc(func(c *config) { c.otelhttpOpts = append(c.otelhttpOpts, opts...) })
}

// WithLoggerProvider sets where audit records go. The default is the global
// LoggerProvider (a no-op until one is set, which then costs nothing).
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return optionFunc(func(c *config) {
		if lp != nil {
			c.loggerProvider = lp
		}
	})
}

// WithAuditSuccess turns the INFO audit records of successful requests and
// allow decisions on (the default) or off. Failure and deny records are
// always emitted.
func WithAuditSuccess(on bool) Option {
	return optionFunc(func(c *config) { c.auditSuccess = on })
}

// WithTrustedProxies names the proxies whose X-Forwarded-For is believed.
// client.address is then the rightmost address in X-Forwarded-For that is
// not a trusted proxy, when the TCP peer itself is one. Without this option
// client.address is the TCP peer: X-Forwarded-For is attacker-controlled.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config) { c.trusted = append(c.trusted, prefixes...) })
}

// WithMaxHeaderBytes caps the Authorization header (default
// [DefaultMaxHeaderBytes]); a longer one is [AuthTokenMalformed] and is not
// hashed. n <= 0 keeps the default.
func WithMaxHeaderBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxHeader = n
		}
	})
}

// WithoutUserID leaves user.id out of spans and records, for deployments
// that treat the subject as personal data. The fingerprint still correlates.
func WithoutUserID() Option {
	return optionFunc(func(c *config) { c.userID = false })
}

// WithRealm sets the realm of WWW-Authenticate challenges.
func WithRealm(realm string) Option {
	return optionFunc(func(c *config) { c.realm = realm })
}

// WithFormTokens turns the search for access_token in form-encoded request
// bodies (RFC 6750 §2.2) on (the default) or off. Bodies are searched as
// net/http parses them for r.FormValue: POST, PUT and PATCH with
// Content-Type application/x-www-form-urlencoded, percent-encoded names
// included. The body is buffered up to 64 KiB and handed to the handler
// unchanged. A longer form body cannot be searched and may hold a
// credential the application would read: the request is token_malformed
// ("form body over 64 KiB", 400 under enforcement). Services that accept
// larger form-encoded bodies and take no token from them turn the search
// off. Multipart bodies are never searched.
func WithFormTokens(on bool) Option {
	return optionFunc(func(c *config) { c.formTokens = on })
}

// WithValidationTimeout bounds how long a request waits for the
// [Validator] (default [DefaultValidationTimeout]; d <= 0 keeps it).
// Validate gets a context with this deadline. A validator that ignores its
// context is abandoned at the deadline: the request stops waiting, and the
// validator's goroutine ends when Validate returns.
//
// A validation that reaches no verdict — the deadline passed, the client
// went away, or the validator returned context.DeadlineExceeded,
// context.Canceled or [ErrValidatorUnavailable], or panicked — is recorded
// as [AuthTokenUnverified], with error.type on the server span and the
// audit record (validator_timeout, validator_canceled,
// validator_unavailable, validator_panic), span status Error and a WARN
// audit record; when enforcing, the request is answered 503 (fail closed),
// never 401: an infrastructure fault is not a verdict on the token.
func WithValidationTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.validationTimeout = d
		}
	})
}

// WithTrustedTraceContext names the peers whose incoming trace context
// (the traceparent of the configured propagator) the server span of
// [NewHandler] and [NewMiddleware] continues, by their TCP peer address.
//
// By default no peer is trusted: the server span of every request is the
// root of a new trace, with a link to the incoming span context when there
// is one. An internet-facing service must not let its clients choose trace
// ids: tail sampling keys on the trace id, so a client that picks ids the
// sampler drops would make its own failed authentications vanish from
// traces (the audit records still have them); under a parent-based
// sampler, an unsampled traceparent would stop the request's spans from
// being recorded at all.
//
// Name the peers that are your own services, e.g. the pod network or
// loopback: their trace continues. [WithTrustedProxies] does not imply this
// trust: a proxy forwards its clients' traceparent unchanged, so trusting
// it would trust every client behind it; name a proxy here only when it
// starts traces of its own and drops the client's.
//
// For another rule (an mTLS identity, a header set by your gateway), pass
// otelhttp.WithPublicEndpointFn through [WithOtelHTTPOptions]: it takes
// precedence over this option (a request is continued when it returns
// false); func(*http.Request) bool { return false } continues every trace.
// Invalid prefixes are ignored.
func WithTrustedTraceContext(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config) {
		for _, p := range prefixes {
			if p.IsValid() {
				c.traceTrusted = append(c.traceTrusted, p.Masked())
			}
		}
	})
}

// WithMeterProvider sets the MeterProvider of the auth metrics
// ([AuthnOutcomesMetric], [AuthzDecisionsMetric]). Without this option (or
// with nil) the global MeterProvider is used, as otelhttp does; while that
// is the default no-op provider the metrics cost one Enabled check per
// request.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}
