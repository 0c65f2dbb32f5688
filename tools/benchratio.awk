# Paired ratios of BenchmarkRequest's cpu-ns/op (process CPU time per
# request): each ratio is taken within one round (one run of the test
# binary, where the variants ran one after the other), then summarised as
# the median and the range over the rounds. Usage: awk -f benchratio.awk FILE
/^goos:/ { r++ }
/^BenchmarkRequest\/v=/ {
	name = $1; sub(/^BenchmarkRequest\/v=/, "", name); sub(/-[0-9]+$/, "", name)
	for (i = 3; i < NF; i++) if ($(i+1) == "cpu-ns/op") cpu[r, name] = $i
	if (r > rounds) rounds = r
}
function ratio(label, a, b, c,    n, i, j, x, v) {
	n = 0
	for (i = 1; i <= rounds; i++) {
		if (!((i, a) in cpu) || !((i, b) in cpu)) continue
		x = (c == "") ? cpu[i, a] / cpu[i, b] : (cpu[i, a] - cpu[i, b]) / cpu[i, c]
		for (j = n; j > 0 && v[j] > x; j--) v[j+1] = v[j]
		v[j+1] = x; n++
	}
	if (n == 0) return
	med = (n % 2) ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
	printf "%-52s %5.2f  [%4.2f – %4.2f]  n=%d\n", label, med, v[1], v[n], n
}
END {
	printf "%-52s %5s  %s\n", "cpu-ns/op ratio (paired within a round)", "median", "[min – max]"
	ratio("floor / otelhttp", "floor", "otelhttp")
	ratio("peer / otelhttp", "peer", "otelhttp")
	ratio("otelbearer / otelhttp", "otelbearer", "otelhttp")
	ratio("otelbearer / peer", "otelbearer", "peer")
	ratio("otelbearer / floor", "otelbearer", "floor")
	ratio("otelbearer-nov / otelhttp", "otelbearer-nov", "otelhttp")
	ratio("otelbearer-audit / otelhttp", "otelbearer-audit", "otelhttp")
	ratio("otelbearer-audit / peer-audit", "otelbearer-audit", "peer-audit")
	ratio("otelbearer-audit-nodedup / peer-audit-nodedup", "otelbearer-audit-nodedup", "peer-audit-nodedup")
	ratio("otelbearer-audit-nodedup / peer-audit", "otelbearer-audit-nodedup", "peer-audit")
	ratio("audit added (otelbearer-audit - otelbearer) / otelhttp", "otelbearer-audit", "otelbearer", "otelhttp")
	ratio("audit added, no dedup / otelhttp", "otelbearer-audit-nodedup", "otelbearer", "otelhttp")
	ratio("peer-audit added (peer-audit - peer) / otelhttp", "peer-audit", "peer", "otelhttp")
	ratio("peer-audit added, no dedup / otelhttp", "peer-audit-nodedup", "peer", "otelhttp")
}
