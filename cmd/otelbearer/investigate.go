package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/otelbearer/otelbearer"
)

const investigateUsage = `usage: otelbearer investigate -logs URL [-since 1h | -start T [-end T]] [-json]
                            [-token < token | -fingerprint HEX]

Runs a responder's questions over the otelbearer audit log in VictoriaLogs
(event_name otelbearer.authn / otelbearer.authz) and prints one table per
question: tokens used from several addresses or by several subjects,
addresses by authentication failures, addresses trying many distinct
tokens (guessing), subjects denied on several resources (BOLA), and
revoked or expired tokens still presented.

With -token, one bearer token is read from standard input (never from the
command line), fingerprinted as the middleware does (key from
$OTELBEARER_FINGERPRINT_KEY), and every request it made is listed: when,
from where, as whom, with what outcome. -fingerprint HEX does the same for
a fingerprint taken from an alert. The token itself is never printed.
`

// thresholds are the report's floors: a row is listed from these counts
// on (the alert rules in alerts/ use higher ones).
type thresholds struct {
	addresses, guesses, denied, failing int
}

type investigateOpts struct {
	logs        string
	start, end  time.Time
	json        bool
	token       bool
	fingerprint string
	min         thresholds
}

var hexFP = regexp.MustCompile(`^[0-9a-f]{32}$`)

func parseInvestigate(args []string, stderr io.Writer) (*investigateOpts, error) {
	fs := flag.NewFlagSet("otelbearer investigate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, investigateUsage+"\nflags:\n"); fs.PrintDefaults() }
	o := &investigateOpts{}
	fs.StringVar(&o.logs, "logs", os.Getenv("OTELBEARER_LOGS_URL"), "VictoriaLogs base URL (default $OTELBEARER_LOGS_URL)")
	since := fs.Duration("since", time.Hour, "report on the last `duration` (ignored with -start)")
	start := fs.String("start", "", "start of the range, RFC 3339")
	end := fs.String("end", "", "end of the range, RFC 3339 (default now)")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of tables")
	fs.BoolVar(&o.token, "token", false, "read a token from standard input and list its requests")
	fs.StringVar(&o.fingerprint, "fingerprint", "", "list the requests of the token with this `fingerprint`")
	fs.IntVar(&o.min.addresses, "min-addresses", 2, "list tokens used from at least this many addresses (or by 2+ subjects)")
	fs.IntVar(&o.min.guesses, "min-guesses", 3, "list addresses with at least this many distinct failing tokens")
	fs.IntVar(&o.min.denied, "min-denied", 2, "list subjects denied on at least this many resources")
	fs.IntVar(&o.min.failing, "top", 20, "list at most this many addresses by failures")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		// Not echoed: it may be a token pasted in the wrong place.
		return nil, fmt.Errorf("%d unexpected arguments (not shown); a token is read from standard input with -token", fs.NArg())
	}
	if o.logs == "" {
		return nil, errors.New("-logs URL is required (VictoriaLogs, e.g. http://127.0.0.1:9428)")
	}
	u, err := url.Parse(o.logs)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-logs %q: want an http(s) URL", o.logs)
	}
	o.logs = strings.TrimRight(o.logs, "/")
	o.end = time.Now()
	if *end != "" {
		if o.end, err = time.Parse(time.RFC3339, *end); err != nil {
			return nil, fmt.Errorf("-end: %w", err)
		}
	}
	o.start = o.end.Add(-*since)
	if *start != "" {
		if o.start, err = time.Parse(time.RFC3339, *start); err != nil {
			return nil, fmt.Errorf("-start: %w", err)
		}
	}
	if !o.start.Before(o.end) {
		return nil, fmt.Errorf("empty range: start %s is not before end %s", o.start.Format(time.RFC3339), o.end.Format(time.RFC3339))
	}
	if o.token && o.fingerprint != "" {
		return nil, errors.New("-token and -fingerprint exclude each other")
	}
	if o.fingerprint != "" && !hexFP.MatchString(o.fingerprint) {
		return nil, fmt.Errorf("-fingerprint %q: want 32 lowercase hex digits", o.fingerprint)
	}
	return o, nil
}

// runInvestigate implements "otelbearer investigate".
func runInvestigate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseInvestigate(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "otelbearer investigate:", err)
		return 2
	}
	if o.token {
		tok, err := readToken(stdin)
		if err != nil {
			fmt.Fprintln(stderr, "otelbearer investigate:", err)
			return 1
		}
		if o.fingerprint, err = fingerprintFromEnv(tok); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if os.Getenv(otelbearer.FingerprintKeyEnv) == "" {
			fmt.Fprintln(stderr, "otelbearer investigate: warning: "+otelbearer.FingerprintKeyEnv+
				" is not set; using the unkeyed fingerprint, which matches only services without a key")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := investigate(ctx, &logsClient{base: o.logs, start: o.start, end: o.end, http: &http.Client{Timeout: 30 * time.Second}}, o)
	if err != nil {
		fmt.Fprintln(stderr, "otelbearer investigate:", err)
		return 1
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.writeText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, "otelbearer investigate:", err)
		return 1
	}
	return 0
}

// fingerprintFromEnv fingerprints tok as the middleware does, with the key
// of FingerprintKeyEnv.
func fingerprintFromEnv(tok string) (string, error) {
	f, err := otelbearer.NewFingerprinter(nil)
	if err != nil {
		return "", err
	}
	return f.Fingerprint(tok), nil
}

// logsClient runs LogsQL queries over one time range.
type logsClient struct {
	base       string
	start, end time.Time
	http       *http.Client
}

// row is one result row; VictoriaLogs gives every value as a string.
type row map[string]string

func (r row) int(k string) int { n, _ := strconv.Atoi(r[k]); return n }

// list decodes a uniq_values result (a JSON array in a string).
func (r row) list(k string) []string {
	var out []string
	if v := r[k]; v != "" && json.Unmarshal([]byte(v), &out) != nil {
		out = []string{v}
	}
	return out
}

func (c *logsClient) query(ctx context.Context, q string) ([]row, error) {
	v := url.Values{"query": {q}, "start": {c.start.Format(time.RFC3339Nano)}, "end": {c.end.Format(time.RFC3339Nano)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/select/logsql/query", strings.NewReader(v.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("VictoriaLogs at %s is unreachable: %w", c.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("VictoriaLogs at %s: %w", c.base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("VictoriaLogs at %s answered %s: %s", c.base, resp.Status, strings.TrimSpace(string(body)))
	}
	var rows []row
	for line := range strings.Lines(string(body)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			return nil, fmt.Errorf("VictoriaLogs at %s: not a LogsQL answer (%v): %.200s", c.base, err, line)
		}
		r := row{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				r[k] = s
			} else {
				r[k] = fmt.Sprint(v)
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}
