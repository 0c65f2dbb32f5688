#!/usr/bin/env bash
# Builds the pipeline binaries the demo and the end-to-end suite run:
# the OpenTelemetry Collector (ocb distribution in tools/collector/otelcol),
# Jaeger v2 (tools/jaeger), VictoriaLogs (tools/victorialogs), and
# VictoriaMetrics with vmalert (tools/victoriametrics).
#
# Usage:
#   tools/build.sh collector|jaeger|victorialogs|victoriametrics|vmalert|all
#                                                      build what is missing
#   tools/build.sh path NAME                           print one binary's path
#   tools/build.sh collector-regen                     regenerate tools/collector/otelcol
#                                                      from tools/collector/manifest.yaml
#
# Binaries go to a cache OUTSIDE the repository, keyed by the pinned version:
#   ${OTELBEARER_CACHE:-$HOME/.cache/otelbearer}/bin/otelcol-<release>-<source hash>/otelcol
#   (the Collector's components change with manifest.yaml at one release, so
#   its directory also carries the first 12 hex digits of the source hash:
#   checkouts with different component sets share the cache without
#   rebuilding over each other)
#   .../bin/jaeger-<version>/jaeger
#   .../bin/victoria-logs-<version>/victoria-logs
#   .../bin/victoria-metrics-<version>/victoria-metrics and .../vmalert
# A binary is rebuilt only when it is missing or when the committed go.mod /
# go.sum (and, for the Collector, the generated sources) changed since it was
# built (a .source-sha256 stamp next to the binary records that).
#
# Versions are read from the committed go.mod files, never repeated here.
# Builds run with -mod=readonly, so they use exactly the committed go.sum files
# and need nothing but Go and the module proxy.
#
# Progress: each build says which binary it builds, then "still building"
# with the elapsed seconds every OTELBEARER_BUILD_PROGRESS seconds (default
# 30), then how long it took; a failed build's compiler output is printed,
# and the script fails if any build failed.
# Concurrency: with several names (or `all`), the modules of every binary
# still to build are downloaded at once in the background (network-bound)
# while the first compiles. Compiles run OTELBEARER_BUILD_JOBS at a time
# (default 1 on a machine with fewer than 4 cores, else 2; at most 3):
# each Go build already uses every core, the binaries share many packages
# (Jaeger is built on the Collector, VictoriaLogs on VictoriaMetrics' lib)
# that concurrent builds compile twice, and a Jaeger build alone takes over
# 1 GiB of memory. Measured on 2 busy cores, VictoriaLogs, VictoriaMetrics
# and vmalert from a cold build cache took 153 s two at a time against
# 145 s one at a time. Concurrent jobs prefix their lines with [name];
# VictoriaMetrics and vmalert share their sources and build one after the
# other in one job.
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${OTELBEARER_CACHE:-${HOME}/.cache/otelbearer}"
BIN_DIR="${CACHE_DIR}/bin"
GO="${GO:-go}"
JOBS="${OTELBEARER_BUILD_JOBS:-$(($(nproc 2>/dev/null || echo 1) >= 4 ? 2 : 1))}"
PROGRESS="${OTELBEARER_BUILD_PROGRESS:-30}"
[[ "$JOBS" =~ ^[1-9][0-9]*$ ]] || JOBS=1
((JOBS <= 3)) || JOBS=3
[[ "$PROGRESS" =~ ^[1-9][0-9]*$ ]] || PROGRESS=30
PREFIX=""       # "[name] " while a concurrent job runs
FETCH_PIDS=()   # background module downloads, stopped on interrupt

log() { printf '%s\n' "build.sh: ${PREFIX}$*" >&2; }
die() { log "error: $*"; exit 1; }

# modversion GOMOD MODULE: the version MODULE is required at in GOMOD.
modversion() {
	local v
	v="$(awk -v m="$2" '($1 == m && $2 ~ /^v/) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$1")"
	[[ -n "$v" ]] || die "cannot find ${2} in ${1}"
	printf '%s\n' "$v"
}

collector_version() { modversion "${TOOLS_DIR}/collector/otelcol/go.mod" go.opentelemetry.io/collector/otelcol; }
jaeger_version() { modversion "${TOOLS_DIR}/jaeger/go.mod" github.com/jaegertracing/jaeger; }
victorialogs_version() { modversion "${TOOLS_DIR}/victorialogs/go.mod" github.com/VictoriaMetrics/VictoriaLogs; }
victoriametrics_version() { modversion "${TOOLS_DIR}/victoriametrics/go.mod" github.com/VictoriaMetrics/VictoriaMetrics; }

# binpath NAME: the cached binary's path for the pinned version.
binpath() {
	case "$1" in
	collector) printf '%s\n' "${BIN_DIR}/otelcol-$(collector_version)-$(stamp collector | cut -c1-12)/otelcol" ;;
	jaeger) printf '%s\n' "${BIN_DIR}/jaeger-$(jaeger_version)/jaeger" ;;
	victorialogs) printf '%s\n' "${BIN_DIR}/victoria-logs-$(victorialogs_version)/victoria-logs" ;;
	victoriametrics) printf '%s\n' "${BIN_DIR}/victoria-metrics-$(victoriametrics_version)/victoria-metrics" ;;
	vmalert) printf '%s\n' "${BIN_DIR}/victoria-metrics-$(victoriametrics_version)/vmalert" ;;
	*) die "unknown component '$1' (want collector, jaeger, victorialogs, victoriametrics or vmalert)" ;;
	esac
}

# srcdir NAME: the module directory the binary is built from.
srcdir() {
	case "$1" in
	collector) printf '%s\n' "${TOOLS_DIR}/collector/otelcol" ;;
	jaeger) printf '%s\n' "${TOOLS_DIR}/jaeger" ;;
	victorialogs) printf '%s\n' "${TOOLS_DIR}/victorialogs" ;;
	victoriametrics | vmalert) printf '%s\n' "${TOOLS_DIR}/victoriametrics" ;;
	esac
}

# stamp NAME: hash of everything that determines the binary (besides Go itself).
stamp() {
	local dir
	dir="$(srcdir "$1")"
	(cd "$dir" && cat go.mod go.sum $(ls ./*.go 2>/dev/null || true) | sha256sum | cut -d' ' -f1)
}

# pkgof NAME: "CGO_ENABLED package" of the binary (cgo only where required:
# VictoriaLogs links zstd through cgo).
pkgof() {
	case "$1" in
	collector) printf '0 .\n' ;;
	jaeger) printf '0 github.com/jaegertracing/jaeger/cmd/jaeger\n' ;;
	victorialogs) printf '1 github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs\n' ;;
	victoriametrics) printf '0 github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics\n' ;;
	vmalert) printf '0 github.com/VictoriaMetrics/VictoriaMetrics/app/vmalert\n' ;;
	esac
}

# uptodate NAME: whether the cached binary matches the committed sources.
uptodate() {
	local out
	out="$(binpath "$1")"
	[[ -x "$out" && -f "${out}.source-sha256" && "$(cat "${out}.source-sha256")" == "$(stamp "$1")" ]]
}

# fetch NAME: download the modules the binary needs, in the background.
fetch() {
	local cgo pkg
	read -r cgo pkg < <(pkgof "$1")
	(cd "$(srcdir "$1")" && CGO_ENABLED="$cgo" exec "$GO" list -mod=readonly -deps "$pkg") >/dev/null 2>&1 &
	FETCH_PIDS+=("$!")
}

# build NAME: build one binary unless an up-to-date one is cached.
build() {
	local name="$1" out dir version pkg cgo note start secs
	out="$(binpath "$name")"
	dir="$(srcdir "$name")"
	case "$name" in
	collector)
		version="$(collector_version)"
		note="building OpenTelemetry Collector ${version} (ocb distribution; measured cold on 2 busy cores: 4 min)…" ;;
	jaeger)
		version="$(jaeger_version)"
		note="building Jaeger ${version} (measured cold on 2 busy cores: 13.5 min)…" ;;
	victorialogs)
		version="$(victorialogs_version)"
		note="building VictoriaLogs ${version} (cgo; measured cold on 2 busy cores: 2.5 min)…" ;;
	victoriametrics)
		version="$(victoriametrics_version)"
		note="building VictoriaMetrics ${version} (measured cold on 2 busy cores: about 1 min)…" ;;
	vmalert)
		version="$(victoriametrics_version)"
		note="building vmalert ${version} (about 20 s after VictoriaMetrics)…" ;;
	esac
	read -r cgo pkg < <(pkgof "$name")

	local want
	want="$(stamp "$name")"
	if uptodate "$name"; then
		log "${name} ${version} cached: ${out}"
		return 0
	fi

	log "$note"
	mkdir -p "$(dirname "$out")"
	start="$(date +%s)"
	# Same flags ocb's compile step uses for the Collector. The compiler's
	# output goes to a file, printed (prefixed) if the build fails.
	local gopid errfile="${out}.build.log" next=$((start + PROGRESS)) now
	(cd "$dir" && CGO_ENABLED="$cgo" exec "$GO" build -mod=readonly -buildvcs=false -trimpath \
		-ldflags='-s -w' -o "${out}.tmp" "$pkg") >"$errfile" 2>&1 &
	gopid=$!
	# A background command ignores SIGINT: stop it ourselves.
	trap 'kill -TERM "$gopid" "${FETCH_PIDS[@]}" 2>/dev/null; rm -f "${out}.tmp"; exit 130' INT TERM
	while kill -0 "$gopid" 2>/dev/null; do
		sleep 1
		now="$(date +%s)"
		if ((now >= next)); then
			log "still building ${name} ${version}: $((now - start))s"
			next=$((now + PROGRESS))
		fi
	done
	if ! wait "$gopid"; then
		trap - INT TERM
		rm -f "${out}.tmp"
		log "FAILED to build ${name} ${version} after $(($(date +%s) - start))s; go build said:"
		sed "s/^/build.sh: ${PREFIX}  /" "$errfile" >&2
		return 1
	fi
	trap - INT TERM
	rm -f "$errfile"
	mv -f "${out}.tmp" "$out"
	printf '%s\n' "$want" >"${out}.source-sha256"
	secs=$(($(date +%s) - start))
	log "built ${name} ${version} in ${secs}s: ${out}"
}

# collector_regen: regenerate tools/collector/otelcol from manifest.yaml with
# ocb at the pinned release, installed through the module proxy into the cache.
collector_regen() {
	local manifest="${TOOLS_DIR}/collector/manifest.yaml" release builder
	release="$(awk '$1 == "-" && $2 == "gomod:" && $3 == "go.opentelemetry.io/collector/receiver/otlpreceiver" { print $4; exit }' "$manifest")"
	[[ -n "$release" ]] || die "cannot find the otlpreceiver release in ${manifest}"
	builder="${BIN_DIR}/builder-${release}/builder"
	if [[ ! -x "$builder" ]]; then
		log "installing ocb ${release} through the module proxy…"
		GOBIN="$(dirname "$builder")" "$GO" install "go.opentelemetry.io/collector/cmd/builder@${release}"
	fi
	log "regenerating tools/collector/otelcol with ocb ${release}…"
	# Some collector modules are missing from the checksum database; their
	# hashes are taken from the proxy once here and then frozen in the
	# committed go.sum (later builds run -mod=readonly against it).
	(cd "${TOOLS_DIR}/collector" &&
		GONOSUMDB="${GONOSUMDB:-go.opentelemetry.io/collector,github.com/open-telemetry/opentelemetry-collector-contrib}" \
			"$builder" --config manifest.yaml --skip-compilation --skip-strict-versioning=false)
	gofmt -w "${TOOLS_DIR}/collector/otelcol"/*.go # ocb's output is not gofmt-clean
	log "done; review and commit tools/collector/otelcol (go.mod, go.sum, *.go)"
}

# running PID...: how many of the processes still run.
running() {
	local n=0 p
	for p in "$@"; do
		! kill -0 "$p" 2>/dev/null || n=$((n + 1))
	done
	printf '%s\n' "$n"
}

# run_builds NAME...: build the names, as concurrent jobs (at most JOBS at
# a time) when there are several; fail if any build failed.
run_builds() {
	local groups=() name vm=""
	for name in "$@"; do
		case "$name" in
		victoriametrics | vmalert) vm="${vm:+$vm }$name" ;; # one job: same sources
		*) groups+=("$name") ;;
		esac
	done
	[[ -z "$vm" ]] || groups+=("$vm")
	if (($# > 1)); then
		for name in "$@"; do
			uptodate "$name" || fetch "$name"
		done
		((${#FETCH_PIDS[@]} == 0)) || log "downloading the modules of ${#FETCH_PIDS[@]} binaries in the background"
	fi
	local failed=() start rc sub=""
	start="$(date +%s)"
	if ((JOBS == 1 || ${#groups[@]} == 1)); then
		# Each build runs in a background subshell the script waits for, so
		# that an interrupt reaches the script at once and stops it.
		trap 'kill -TERM ${sub:+"$sub"} "${FETCH_PIDS[@]}" 2>/dev/null; wait; exit 130' INT TERM
		for name in "$@"; do
			# Not "build || ...": that would turn off set -e inside build.
			(set -e; build "$name") &
			sub=$!
			rc=0
			wait "$sub" || rc=$?
			((rc == 0)) || failed+=("$name")
		done
		wait
		trap - INT TERM
		((${#failed[@]} == 0)) || die "failed: ${failed[*]} (after $(($(date +%s) - start))s)"
		return 0
	fi

	local status_dir group pids=()
	status_dir="$(mktemp -d)"
	trap 'kill -TERM "${pids[@]}" "${FETCH_PIDS[@]}" 2>/dev/null; wait; rm -rf "$status_dir"; exit 130' INT TERM
	log "${#groups[@]} jobs, at most ${JOBS} at a time: ${groups[*]// /+}"
	for group in "${groups[@]}"; do
		while (($(running "${pids[@]}") >= JOBS)); do
			wait -n || true
		done
		(
			inner=""
			trap 'kill -TERM ${inner:+"$inner"} 2>/dev/null; wait; exit 130' INT TERM
			rc=0
			for name in $group; do
				PREFIX="[${name}] "
				# Not "build || ...": that would turn off set -e inside build.
				(set -e; build "$name") &
				inner=$!
				wait "$inner" || rc=$?
				((rc == 0)) || break
			done
			printf '%s\n' "$rc" >"${status_dir}/${group// /+}"
		) &
		pids+=("$!")
	done
	wait || true
	trap - INT TERM
	for group in "${groups[@]}"; do
		[[ "$(cat "${status_dir}/${group// /+}" 2>/dev/null)" == 0 ]] || failed+=("$group")
	done
	rm -rf "$status_dir"
	((${#failed[@]} == 0)) || die "failed: ${failed[*]} (after $(($(date +%s) - start))s)"
	log "all done in $(($(date +%s) - start))s"
}

main() {
	[[ $# -ge 1 ]] || die "usage: $0 collector|jaeger|victorialogs|all | path NAME | collector-regen"
	command -v "$GO" >/dev/null || die "Go toolchain not found (set GO=/path/to/go)"
	case "$1" in
	path)
		[[ $# -eq 2 ]] || die "usage: $0 path collector|jaeger|victorialogs"
		local p
		p="$(binpath "$2")"
		[[ -x "$p" ]] || log "warning: ${p} is not built yet; run tools/build.sh $2"
		printf '%s\n' "$p"
		return 0 ;;
	collector-regen)
		collector_regen
		return 0 ;;
	all) set -- jaeger collector victorialogs victoriametrics vmalert ;; # longest first
	esac
	local name
	for name in "$@"; do
		binpath "$name" >/dev/null
	done
	run_builds "$@"
	for name in "$@"; do
		printf '%s=%s\n' "$name" "$(binpath "$name")"
	done
}

main "$@"
