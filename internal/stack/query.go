package stack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Trace is one trace from Jaeger's legacy query API (/api/traces).
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
}

// Process is a Jaeger process (a service and its resource tags).
type Process struct {
	ServiceName string `json:"serviceName"`
	Tags        []KV   `json:"tags"`
}

// Span is one span of a Trace.
type Span struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	// References are the parent (CHILD_OF) and the links (FOLLOWS_FROM).
	References []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags      []KV   `json:"tags"`
	ProcessID string `json:"processID"`
}

// KV is a Jaeger tag.
type KV struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Tag returns the value of the span's tag key as a string ("" when
// absent); numbers and booleans are formatted.
func (s Span) Tag(key string) string {
	for _, kv := range s.Tags {
		if kv.Key == key {
			switch v := kv.Value.(type) {
			case string:
				return v
			case float64:
				return strconv.FormatFloat(v, 'f', -1, 64)
			default:
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// ParentID returns the span id of the span's parent ("" for a root).
func (s Span) ParentID() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// SpanByKind returns the first span whose span.kind tag is kind and whose
// name matches name when name is not empty.
func (t Trace) SpanByKind(kind, name string) (Span, bool) {
	for _, s := range t.Spans {
		if s.Tag("span.kind") == kind && (name == "" || s.OperationName == name) {
			return s, true
		}
	}
	return Span{}, false
}

// JaegerTracesURL is the query API URL for a service's traces with the
// given tags (nil for all), at most limit of them.
func JaegerTracesURL(base, service string, tags map[string]string, limit int) string {
	q := url.Values{"service": {service}, "limit": {strconv.Itoa(limit)}, "lookback": {"2h"}}
	if len(tags) > 0 {
		b, _ := json.Marshal(tags)
		q.Set("tags", string(b))
	}
	return base + "/api/traces?" + q.Encode()
}

// JaegerTraces fetches a service's traces with the given tags. It also
// returns the raw JSON (for leak checks).
func JaegerTraces(ctx context.Context, base, service string, tags map[string]string) ([]Trace, []byte, error) {
	raw, err := get(ctx, JaegerTracesURL(base, service, tags, 1000))
	if err != nil {
		return nil, nil, err
	}
	var resp struct {
		Data   []Trace `json:"data"`
		Errors []struct {
			Msg string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, raw, fmt.Errorf("jaeger: %w", err)
	}
	if len(resp.Errors) > 0 {
		return nil, raw, fmt.Errorf("jaeger: %s", resp.Errors[0].Msg)
	}
	return resp.Data, raw, nil
}

// LogsQLURL is the VictoriaLogs query URL for a LogsQL query.
func LogsQLURL(base, query string) string {
	return base + "/select/logsql/query?" + url.Values{"query": {query}}.Encode()
}

// LogsQL runs a LogsQL query against VictoriaLogs and returns its rows
// (one JSON object per line) and the raw output.
func LogsQL(ctx context.Context, base, query string) ([]map[string]any, []byte, error) {
	raw, err := get(ctx, LogsQLURL(base, query))
	if err != nil {
		return nil, nil, err
	}
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, raw, fmt.Errorf("logsql: %w", err)
		}
		rows = append(rows, row)
	}
	return rows, raw, sc.Err()
}

// get fetches url and returns its body; a status other than 200 is an
// error.
func get(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("GET %s: %s: %.300s", u, resp.Status, body)
	}
	return body, nil
}
