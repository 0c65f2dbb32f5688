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
	key            key
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
	c := &config{auditSuccess: true, userID: true, formTokens: true, maxHeader: defaultMaxHeaderBytes,
		validationTimeout: defaultValidationTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.key.isZero() && c.keyErr == nil {
		c.key, c.keyErr = keyFromEnv()
	}
	if c.keyErr != nil {
		otel.Handle(c.keyErr) // c.fp stays nil: no fingerprints
	} else {
		c.fp = newFingerprinter(c.key)
	}
	if c.loggerProvider == nil {
		c.loggerProvider = otel.GetLoggerProvider()
	}
	c.logger = c.loggerProvider.Logger(ScopeName, log.WithInstrumentationVersion(Version))
	c.metrics = newAuthMetrics(c.meterProvider)
	return c
}

// WithFingerprintKey sets the fingerprint key (raw bytes, the same on every
// replica; empty: [FingerprintKeyEnv], else unkeyed SHA-256). A key under
// 16 bytes is refused through otel.Handle and no fingerprint is recorded.
func WithFingerprintKey(key []byte) Option {
	if len(key) == 0 {
		return optionFunc(func(*config) {})
	}
	k, err := parseKey(key)
	if err != nil {
		err = fmt.Errorf("otelbearer: WithFingerprintKey: %w (%d bytes); no fingerprints are recorded", ErrShortKey, len(key))
	}
	return optionFunc(func(c *config) { c.key, c.keyErr = k, err })
}

// WithValidator sets the token validator. Without one, no request is
// rejected and tokens stay [AuthTokenUnverified] unless [RecordAuthn].
func WithValidator(v Validator) Option {
	return optionFunc(func(c *config) {
		if v != nil {
			c.validator = v
		}
	})
}

// WithEnforcement turns the rejection of failed requests on (the default
// with a [Validator]) or off (observe only).
func WithEnforcement(on bool) Option {
	return optionFunc(func(c *config) { c.observeOnly = !on })
}

// WithTokenOptionalPaths marks routes (health checks, login) where a
// missing token is not rejected (token_missing, auth.optional); a token
// sent is still enforced. Matched: for an [*http.ServeMux] its pattern
// ("GET /healthz" or "/healthz"), else the escaped path byte for byte.
func WithTokenOptionalPaths(paths ...string) Option {
	return optionFunc(func(c *config) {
		if c.publicPaths == nil {
			c.publicPaths = make(map[string]struct{}, len(paths))
		}
		for _, p := range paths {
			c.publicPaths[p] = struct{}{}
		}
	})
}

// WithTokenOptional adds a predicate for where a token is optional, for
// other routers; it must decide on r.URL.EscapedPath(), not r.URL.Path.
func WithTokenOptional(fn func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.public = fn
		}
	})
}

// WithOtelHTTPOptions passes options to the wrapped otelhttp handler or
// transport.
func WithOtelHTTPOptions(opts ...otelhttp.Option) Option {
	return optionFunc(func(c *config) { c.otelhttpOpts = append(c.otelhttpOpts, opts...) })
}

// WithLoggerProvider sets where audit records go (default: the global
// LoggerProvider).
func WithLoggerProvider(lp log.LoggerProvider) Option {
	return optionFunc(func(c *config) {
		if lp != nil {
			c.loggerProvider = lp
		}
	})
}

// WithAuditSuccess turns the audit records of successes and allows on (the
// default) or off; failures and denies are always recorded.
func WithAuditSuccess(on bool) Option {
	return optionFunc(func(c *config) { c.auditSuccess = on })
}

// WithTrustedProxies names the proxies whose X-Forwarded-For is believed
// for client.address; by default it is the TCP peer.
func WithTrustedProxies(prefixes ...netip.Prefix) Option {
	return optionFunc(func(c *config) { c.trusted = append(c.trusted, prefixes...) })
}

// WithMaxHeaderBytes caps the Authorization header (default 8 KiB); a
// longer one is [AuthTokenMalformed].
func WithMaxHeaderBytes(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxHeader = n
		}
	})
}

// WithUserID turns user.id (the validated subject, maybe personal data) on
// (the default) or off.
func WithUserID(on bool) Option {
	return optionFunc(func(c *config) { c.userID = on })
}

// WithRealm sets the realm of WWW-Authenticate challenges.
func WithRealm(realm string) Option {
	return optionFunc(func(c *config) { c.realm = realm })
}

// WithFormTokens turns the search for access_token in form-encoded bodies
// (up to 64 KiB; longer ones are token_malformed) on (the default) or off.
func WithFormTokens(on bool) Option {
	return optionFunc(func(c *config) { c.formTokens = on })
}

// WithValidationTimeout bounds the wait for the [Validator] (default 5s).
// No verdict (deadline, client gone, [ErrValidatorUnavailable], panic) is
// [AuthTokenUnverified], and under enforcement 503, never 401.
func WithValidationTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.validationTimeout = d
		}
	})
}

// WithTrustedTraceContext names the peers (TCP address) whose trace context
// is continued; any other request starts a new trace linked to it, so that
// no client picks trace ids that tail sampling drops.
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
