package redact

// knownClass returns the class of keys met on nearly every span and log
// record (OpenTelemetry semantic conventions for HTTP, URL, network,
// server, client, user agent, errors, resources, and the package's own
// keys) without the key rules' scan: one switch on the whole key. ok is
// false for any other key. The class given is the one the rules give
// (pinned by TestKnownClassMatchesRules); a key listed here is ASCII and
// far below any value bound, so it needs no UTF-8 check or cut. Only
// valid without operator key rules ([Config].Keys), which may name any
// of them.
func knownClass(key string) (keyClass, bool) {
	switch key {
	case "http.request.method", "http.request.method_original", "http.response.status_code",
		"http.route", "http.request.body.size", "http.response.body.size",
		"http.request.size", "http.response.size", "http.request.resend_count",
		"url.scheme", "url.path", "url.full", "url.fragment", "url.original", "url.template",
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
		"code.lineno", "code.line.number", "thread.id":
		return classPlain, true
	case "url.query":
		return classQuery, true
	}
	return ownClass(key)
}
