package redact

import "github.com/otelbearer/otelbearer/internal/attrkey"

// ownKeys are the keys ownClass knows (pinned by TestKnownClassMatchesRules).
var ownKeys = []string{
	attrkey.TokenFingerprint, attrkey.TokenOutgoingFingerprint,
	attrkey.AuthScheme, attrkey.AuthEvent, attrkey.AuthzDecision, attrkey.TokenSource, attrkey.AuthOptional,
	attrkey.AuthzReason, attrkey.AuthzResource, attrkey.TokenID, attrkey.TokenScopes, attrkey.TokenClientID,
	attrkey.TokenIssuer, attrkey.UserID, attrkey.ClientAddress, attrkey.RedactionCount, attrkey.RedactionSanitized,
}

// knownKeys are keys met on nearly every span and log record
// (OpenTelemetry semantic conventions for HTTP, URL, network, server,
// client, user agent, errors and resources) with the class the key rules
// give them (pinned by TestKnownClassMatchesRules). Each is ASCII and far
// below any value bound, so it needs no UTF-8 check or cut. The
// package's own keys are added from ownClass.
var knownKeys = []string{
	"http.request.method", "http.request.method_original", "http.response.status_code",
	"http.route", "http.request.body.size", "http.response.body.size",
	"http.request.size", "http.response.size", "http.request.resend_count",
	"url.scheme", "url.path", "url.full", "url.fragment", "url.original", "url.template", "url.query",
	"server.address", "server.port", "client.port",
	"network.peer.address", "network.peer.port", "network.local.address", "network.local.port",
	"network.protocol.name", "network.protocol.version", "network.transport", "network.type",
	"user_agent.original", "error.type", "error.message",
	"exception.type", "exception.message", "exception.stacktrace", "exception.escaped",
	"rpc.system", "rpc.service", "rpc.method", "rpc.grpc.status_code",
	"db.system", "db.system.name", "db.namespace", "db.operation.name", "db.collection.name",
	"service.name", "service.version", "service.namespace", "service.instance.id",
	"telemetry.sdk.language", "telemetry.sdk.name", "telemetry.sdk.version",
	"host.name", "host.arch", "os.type", "process.pid", "process.runtime.name",
	"process.runtime.version", "process.runtime.description",
	"deployment.environment", "deployment.environment.name",
	"otel.scope.name", "otel.scope.version", "otel.status_code", "otel.status_description",
	"code.function", "code.function.name", "code.namespace", "code.filepath", "code.file.path",
	"code.lineno", "code.line.number", "thread.id",
}

// knownEntry is a well-known key and its class.
type knownEntry struct {
	key   string
	class keyClass
}

// knownList holds knownKeys and the package's own keys; knownSlots is an
// open-addressing hash table of indexes into it, plus one (0: free), at
// most a third full: a lookup costs a hash of three bytes and the length,
// two small loads and most often one string compare.
var knownList, knownSlots = func() (list [256]knownEntry, t [knownSize]uint8) {
	n := 0
	add := func(k string, c keyClass) {
		list[n] = knownEntry{k, c}
		n++
		h := knownHash(k)
		for t[h] != 0 {
			h = (h + 1) & (knownSize - 1)
		}
		t[h] = uint8(n)
	}
	for _, k := range knownKeys {
		if k == "url.query" {
			add(k, classQuery)
		} else {
			add(k, classPlain)
		}
	}
	for _, k := range ownKeys {
		c, _ := ownClass(k)
		add(k, c)
	}
	return list, t
}()

const knownSize = 512 // a power of two; over three times the keys, under 256 keys

func knownHash(k string) uint {
	n := uint(len(k))
	return (n*131 + uint(k[0])*7 + uint(k[n/2])*29 + uint(k[n-1])*61 + uint(k[n-3])) & (knownSize - 1)
}

// knownClass returns the class of a well-known key (knownKeys or the
// package's own keys) without the key rules' scan; ok is false for any
// other key. Only valid without operator key rules ([Config].Keys), which
// may name any of them.
func knownClass(key string) (keyClass, bool) {
	if len(key) < 4 {
		return classPlain, false
	}
	for h := knownHash(key); ; h = (h + 1) & (knownSize - 1) {
		i := knownSlots[h]
		if i == 0 {
			return classPlain, false
		}
		if e := &knownList[i-1]; e.key == key { // a uint8 index: no bounds check
			return e.class, true
		}
	}
}
