package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer"
)

// fakeLogs answers LogsQL queries with canned rows chosen by a substring
// of the query, and records the queries.
func fakeLogs(t *testing.T, answers map[string]string) (*httptest.Server, *[]string) {
	t.Helper()
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/select/logsql/query", r.URL.Path)
		require.NoError(t, r.ParseForm())
		q := r.Form.Get("query")
		queries = append(queries, q)
		assert.NotEmpty(t, r.Form.Get("start"))
		assert.NotEmpty(t, r.Form.Get("end"))
		for k, v := range answers {
			if strings.Contains(q, k) {
				_, _ = w.Write([]byte(v))
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

var cannedLogs = map[string]string{
	"stats count() as records": `{"records":"42"}` + "\n",
	"count_uniq(client.address) as addresses": `{"token.fingerprint":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","addresses":"3","subjects":"1","requests":"5",` +
		`"address_list":"[\"127.0.2.1\",\"127.0.2.2\",\"127.0.2.3\"]","subject_list":"[\"grace\"]"}` + "\n",
	"count() as failures": `{"client.address":"127.0.2.10","failures":"30","fingerprints":"1","events":"[\"token_invalid\",\"token_missing\"]"}` + "\n" +
		`{"client.address":"127.0.2.20","failures":"12","fingerprints":"12","events":"[\"token_invalid\"]"}` + "\n",
	"count() as tries": `{"client.address":"127.0.2.20","fingerprints":"12","tries":"12"}` + "\n",
	"as resource_list": `{"user.id":"mallory","resources":"3","denies":"3","resource_list":"[\"a-1\",\"b-2\",\"c-3\"]","address_list":"[\"127.0.2.40\"]"}` + "\n",
	"count() as uses":  `{"token.fingerprint":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","auth.event":"token_revoked","uses":"2","address_list":"[\"127.0.2.30\"]","last_seen":"2026-01-01T00:00:00Z"}` + "\n",
	"| sort by (_time)": `{"_time":"2026-01-01T00:00:01Z","event_name":"otelbearer.authn","client.address":"127.0.2.1","user.id":"grace","http.request.method":"GET","url.path":"/api/data/grace-1","auth.event":"token_valid","http.response.status_code":"200"}` + "\n" +
		`{"_time":"2026-01-01T00:00:01Z","event_name":"otelbearer.authz","client.address":"127.0.2.1","user.id":"grace","http.request.method":"GET","url.path":"/api/data/grace-1","authz.decision":"allow","authz.reason":"owner","authz.resource":"grace-1"}` + "\n",
}

func TestInvestigateText(t *testing.T) {
	srv, _ := fakeLogs(t, cannedLogs)
	var out, errb bytes.Buffer
	code := run([]string{"investigate", "-logs", srv.URL, "-start", "2026-01-01T00:00:00Z", "-end", "2026-01-01T01:00:00Z"},
		strings.NewReader(""), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	want := `otelbearer audit log ` + srv.URL + `, 2026-01-01T00:00:00Z to 2026-01-01T01:00:00Z: 42 records

== Tokens used from several addresses or by several subjects (1)
FINGERPRINT                       ADDRESSES                      SUBJECTS  REQUESTS
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  127.0.2.1,127.0.2.2,127.0.2.3  grace     5

== Addresses by authentication failures (2)
ADDRESS     FAILURES  DISTINCT TOKENS  EVENTS
127.0.2.10  30        1                token_invalid,token_missing
127.0.2.20  12        12               token_invalid

== Addresses trying many distinct tokens (guessing) (1)
ADDRESS     DISTINCT TOKENS  TRIES
127.0.2.20  12               12

== Subjects denied on several resources (BOLA) (1)
SUBJECT  DENIES  ADDRESSES   RESOURCES
mallory  3       127.0.2.40  a-1,b-2,c-3

== Revoked or expired tokens still presented (1)
FINGERPRINT                       EVENT          USES  ADDRESSES   LAST SEEN
bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  token_revoked  2     127.0.2.30  2026-01-01T00:00:00Z
`
	assert.Equal(t, want, out.String())
}

func TestInvestigateTokenPivot(t *testing.T) {
	const key = "cli-test-key-16+bytes"
	const tok = "s3cr3t-token-value"
	t.Setenv(otelbearer.FingerprintKeyEnv, key)
	fp := fingerprint(t, key, tok)
	srv, queries := fakeLogs(t, cannedLogs)
	var out, errb bytes.Buffer
	code := run([]string{"investigate", "-logs", srv.URL, "-json", "-token"}, strings.NewReader("Bearer "+tok+"\n"), &out, &errb)
	require.Equal(t, 0, code, errb.String())
	var rep Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	assert.Equal(t, fp, rep.Fingerprint)
	require.Len(t, rep.Requests, 2)
	assert.Equal(t, TokenRequest{Time: "2026-01-01T00:00:01Z", Event: "otelbearer.authn", Address: "127.0.2.1", Subject: "grace",
		Method: "GET", Path: "/api/data/grace-1", Outcome: "token_valid", Status: "200"}, rep.Requests[0])
	assert.Equal(t, "authz allow (owner)", rep.Requests[1].Outcome)
	assert.Equal(t, "grace-1", rep.Requests[1].Resource)
	assert.Equal(t, []string{"127.0.2.1", "127.0.2.2", "127.0.2.3"}, rep.Reused[0].Addresses)
	// The pivot query names the fingerprint; nothing carries the token.
	assert.Contains(t, strings.Join(*queries, "\n"), `token.fingerprint:="`+fp+`"`)
	for _, s := range append(*queries, out.String(), errb.String()) {
		assert.NotContains(t, s, tok)
	}
}

func TestInvestigateErrors(t *testing.T) {
	empty, _ := fakeLogs(t, map[string]string{"stats count() as records": `{"records":"0"}` + "\n"})
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "cannot parse query", http.StatusBadRequest)
	}))
	defer failing.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + lis.Addr().String()
	require.NoError(t, lis.Close())

	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		err   string
	}{
		{"no url", []string{}, "", 2, "-logs URL is required"},
		{"bad url", []string{"-logs", "127.0.0.1:9428"}, "", 2, "want an http(s) URL"},
		{"token in argv", []string{"-logs", empty.URL, "s3cr3t"}, "", 2, "read from standard input"},
		{"reversed range", []string{"-logs", empty.URL, "-start", "2026-01-02T00:00:00Z", "-end", "2026-01-01T00:00:00Z"}, "", 2, "empty range"},
		{"bad fingerprint", []string{"-logs", empty.URL, "-fingerprint", "xyz"}, "", 2, "32 lowercase hex"},
		{"no token on stdin", []string{"-logs", empty.URL, "-token"}, " \n", 1, "no token on standard input"},
		{"unreachable", []string{"-logs", closed}, "", 1, "is unreachable"},
		{"store error", []string{"-logs", failing.URL}, "", 1, "400 Bad Request: cannot parse query"},
		{"empty range", []string{"-logs", empty.URL, "-since", "5m"}, "", 1, "no otelbearer audit records in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"investigate"}, tt.args...), strings.NewReader(tt.stdin), &out, &errb)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errb.String(), tt.err)
			assert.Empty(t, out.String())
			assert.NotContains(t, errb.String(), "s3cr3t")
		})
	}
}
