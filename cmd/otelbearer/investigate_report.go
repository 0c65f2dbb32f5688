package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The LogsQL the report runs; %s are filled with thresholds or a
// fingerprint. Failures are what the alert rules count: a refused token,
// or no token on a protected route.
const (
	qAuthn    = `event_name:="otelbearer.authn"`
	qFailures = qAuthn + ` (auth.event:in("token_malformed", "token_invalid", "token_expired", "token_revoked") or (auth.event:="token_missing" -auth.optional:="true"))`
	qCount    = `event_name:in("otelbearer.authn", "otelbearer.authz") | stats count() as records`
	qReused   = qAuthn + ` token.fingerprint:* | stats by (token.fingerprint) count_uniq(client.address) as addresses, count_uniq(user.id) as subjects, count() as requests, uniq_values(client.address) limit 20 as address_list, uniq_values(user.id) limit 20 as subject_list | filter addresses:>=%d or subjects:>=2 | sort by (addresses desc, requests desc)`
	qFailing  = qFailures + ` | stats by (client.address) count() as failures, count_uniq(token.fingerprint) as fingerprints, uniq_values(auth.event) as events | sort by (failures desc) | limit %d`
	qGuessers = qAuthn + ` auth.event:in("token_invalid", "token_malformed") token.fingerprint:* | stats by (client.address) count_uniq(token.fingerprint) as fingerprints, count() as tries | filter fingerprints:>=%d | sort by (fingerprints desc)`
	qBOLA     = `event_name:="otelbearer.authz" authz.decision:="deny" user.id:* | stats by (user.id) count_uniq(authz.resource) as resources, count() as denies, uniq_values(authz.resource) limit 50 as resource_list, uniq_values(client.address) limit 20 as address_list | filter resources:>=%d | sort by (resources desc)`
	qRevoked  = qAuthn + ` auth.event:in("token_revoked", "token_expired") | stats by (token.fingerprint, auth.event) count() as uses, uniq_values(client.address) limit 20 as address_list, max(_time) as last_seen | sort by (uses desc)`
	qToken    = `event_name:in("otelbearer.authn", "otelbearer.authz") token.fingerprint:=%q | sort by (_time) | limit 1000`
)

// Report is what investigate prints (and, with -json, its JSON form).
type Report struct {
	Logs        string           `json:"logs"`
	Start       time.Time        `json:"start"`
	End         time.Time        `json:"end"`
	Records     int              `json:"records"`
	Reused      []ReusedToken    `json:"reused_tokens"`
	Failing     []FailingAddress `json:"addresses_by_failures"`
	Guessers    []Guesser        `json:"guessers"`
	BOLA        []BOLAActor      `json:"bola_actors"`
	Revoked     []DeadToken      `json:"revoked_or_expired_in_use"`
	Fingerprint string           `json:"fingerprint,omitempty"`
	Requests    []TokenRequest   `json:"token_requests,omitempty"`
}

// ReusedToken is a fingerprint seen from several addresses or subjects.
type ReusedToken struct {
	Fingerprint string   `json:"fingerprint"`
	Addresses   []string `json:"addresses"`
	Subjects    []string `json:"subjects"`
	Requests    int      `json:"requests"`
}

// FailingAddress is a client address by authentication failures.
type FailingAddress struct {
	Address      string   `json:"address"`
	Failures     int      `json:"failures"`
	Fingerprints int      `json:"distinct_fingerprints"`
	Events       []string `json:"events"`
}

// Guesser is an address presenting many distinct refused tokens.
type Guesser struct {
	Address      string `json:"address"`
	Fingerprints int    `json:"distinct_fingerprints"`
	Tries        int    `json:"tries"`
}

// BOLAActor is a subject denied on several resources.
type BOLAActor struct {
	Subject   string   `json:"subject"`
	Denies    int      `json:"denies"`
	Resources []string `json:"resources"`
	Addresses []string `json:"addresses"`
}

// DeadToken is a revoked or expired token still presented.
type DeadToken struct {
	Fingerprint string   `json:"fingerprint"`
	Event       string   `json:"event"`
	Uses        int      `json:"uses"`
	Addresses   []string `json:"addresses"`
	LastSeen    string   `json:"last_seen"`
}

// TokenRequest is one audit record of the pivoted token.
type TokenRequest struct {
	Time     string `json:"time"`
	Event    string `json:"event_name"`
	Address  string `json:"address"`
	Subject  string `json:"subject,omitempty"`
	Method   string `json:"method"`
	Path     string `json:"path"`
	Outcome  string `json:"outcome"`
	Status   string `json:"status,omitempty"`
	Resource string `json:"resource,omitempty"`
}

func investigate(ctx context.Context, c *logsClient, o *investigateOpts) (*Report, error) {
	rep := &Report{Logs: c.base, Start: c.start.UTC(), End: c.end.UTC(), Fingerprint: o.fingerprint}
	rows, err := c.query(ctx, qCount)
	if err != nil {
		return nil, err
	}
	if len(rows) > 0 {
		rep.Records = rows[0].int("records")
	}
	if rep.Records == 0 {
		return nil, fmt.Errorf("no otelbearer audit records in %s between %s and %s (is this the right store and range?)",
			c.base, rep.Start.Format(time.RFC3339), rep.End.Format(time.RFC3339))
	}
	run := func(q string, f func(row)) {
		if err != nil {
			return
		}
		var rows []row
		if rows, err = c.query(ctx, q); err == nil {
			for _, r := range rows {
				f(r)
			}
		}
	}
	run(fmt.Sprintf(qReused, o.min.addresses), func(r row) {
		rep.Reused = append(rep.Reused, ReusedToken{r["token.fingerprint"], r.list("address_list"), r.list("subject_list"), r.int("requests")})
	})
	run(fmt.Sprintf(qFailing, o.min.failing), func(r row) {
		rep.Failing = append(rep.Failing, FailingAddress{r["client.address"], r.int("failures"), r.int("fingerprints"), r.list("events")})
	})
	run(fmt.Sprintf(qGuessers, o.min.guesses), func(r row) {
		rep.Guessers = append(rep.Guessers, Guesser{r["client.address"], r.int("fingerprints"), r.int("tries")})
	})
	run(fmt.Sprintf(qBOLA, o.min.denied), func(r row) {
		rep.BOLA = append(rep.BOLA, BOLAActor{r["user.id"], r.int("denies"), r.list("resource_list"), r.list("address_list")})
	})
	run(qRevoked, func(r row) {
		rep.Revoked = append(rep.Revoked, DeadToken{r["token.fingerprint"], r["auth.event"], r.int("uses"), r.list("address_list"), r["last_seen"]})
	})
	if o.fingerprint != "" {
		run(fmt.Sprintf(qToken, o.fingerprint), func(r row) {
			tr := TokenRequest{Time: r["_time"], Event: r["event_name"], Address: r["client.address"], Subject: r["user.id"],
				Method: r["http.request.method"], Path: r["url.path"], Outcome: r["auth.event"], Status: r["http.response.status_code"]}
			if tr.Event == "otelbearer.authz" {
				tr.Outcome, tr.Resource = "authz "+r["authz.decision"]+" ("+r["authz.reason"]+")", r["authz.resource"]
			}
			rep.Requests = append(rep.Requests, tr)
		})
	}
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// writeText prints the report as one table per question.
func (rep *Report) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "otelbearer audit log %s, %s to %s: %d records\n",
		rep.Logs, rep.Start.Format(time.RFC3339), rep.End.Format(time.RFC3339), rep.Records)
	join := func(s []string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, ",")
	}
	table := func(title string, n int, header string, line func(i int) string) {
		fmt.Fprintf(tw, "\n== %s (%d)\n", title, n)
		if n == 0 {
			fmt.Fprintln(tw, "none")
			return
		}
		fmt.Fprintln(tw, header)
		for i := range n {
			fmt.Fprintln(tw, line(i))
		}
	}
	table("Tokens used from several addresses or by several subjects", len(rep.Reused),
		"FINGERPRINT\tADDRESSES\tSUBJECTS\tREQUESTS", func(i int) string {
			r := rep.Reused[i]
			return r.Fingerprint + "\t" + join(r.Addresses) + "\t" + join(r.Subjects) + "\t" + strconv.Itoa(r.Requests)
		})
	table("Addresses by authentication failures", len(rep.Failing),
		"ADDRESS\tFAILURES\tDISTINCT TOKENS\tEVENTS", func(i int) string {
			r := rep.Failing[i]
			return r.Address + "\t" + strconv.Itoa(r.Failures) + "\t" + strconv.Itoa(r.Fingerprints) + "\t" + join(r.Events)
		})
	table("Addresses trying many distinct tokens (guessing)", len(rep.Guessers),
		"ADDRESS\tDISTINCT TOKENS\tTRIES", func(i int) string {
			r := rep.Guessers[i]
			return r.Address + "\t" + strconv.Itoa(r.Fingerprints) + "\t" + strconv.Itoa(r.Tries)
		})
	table("Subjects denied on several resources (BOLA)", len(rep.BOLA),
		"SUBJECT\tDENIES\tADDRESSES\tRESOURCES", func(i int) string {
			r := rep.BOLA[i]
			return r.Subject + "\t" + strconv.Itoa(r.Denies) + "\t" + join(r.Addresses) + "\t" + join(r.Resources)
		})
	table("Revoked or expired tokens still presented", len(rep.Revoked),
		"FINGERPRINT\tEVENT\tUSES\tADDRESSES\tLAST SEEN", func(i int) string {
			r := rep.Revoked[i]
			return r.Fingerprint + "\t" + r.Event + "\t" + strconv.Itoa(r.Uses) + "\t" + join(r.Addresses) + "\t" + r.LastSeen
		})
	if rep.Fingerprint != "" {
		table("Requests of token "+rep.Fingerprint, len(rep.Requests),
			"TIME\tADDRESS\tSUBJECT\tMETHOD\tPATH\tOUTCOME\tSTATUS\tRESOURCE", func(i int) string {
				r := rep.Requests[i]
				dash := func(s string) string {
					if s == "" {
						return "-"
					}
					return s
				}
				return r.Time + "\t" + dash(r.Address) + "\t" + dash(r.Subject) + "\t" + dash(r.Method) + "\t" +
					dash(r.Path) + "\t" + dash(r.Outcome) + "\t" + dash(r.Status) + "\t" + dash(r.Resource)
			})
	}
	return tw.Flush()
}
