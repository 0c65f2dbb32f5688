package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// DetectConfig describes the detection part of a stack: VictoriaMetrics
// (the auth metrics, OTLP from the Collector), two vmalert processes (the
// LogsQL rules of alerts/logs.rules.yml against VictoriaLogs, the MetricsQL
// rules of alerts/metrics.rules.yml against VictoriaMetrics) and the alert
// receiver they notify.
type DetectConfig struct {
	// VictoriaMetrics, VMAlertLogs and VMAlertMetrics are the preferred
	// HTTP ports (zero: a free port).
	VictoriaMetrics, VMAlertLogs, VMAlertMetrics int
	// EvalInterval is vmalert's -evaluationInterval (default 2s).
	EvalInterval time.Duration
}

// Detection is the running detection part of a stack.
type Detection struct {
	VictoriaMetrics, VMAlertLogs, VMAlertMetrics *Proc
	// Receiver collects the alerts both vmalert processes send.
	Receiver *AlertReceiver
	// Ports are the ports in use.
	Ports DetectConfig
}

// startDetection starts the receiver and VictoriaMetrics. The vmalert
// processes start later (startVMAlert), once their datasources run.
func (s *Stack) startDetection(ctx context.Context) error {
	d := &Detection{Ports: s.cfg.Detect}
	if d.Ports.EvalInterval == 0 {
		d.Ports.EvalInterval = 2 * time.Second
	}
	s.Detect = d
	p := &d.Ports
	if err := ports(&p.VictoriaMetrics, &p.VMAlertLogs, &p.VMAlertMetrics); err != nil {
		return err
	}
	var err error
	if d.Receiver, err = NewAlertReceiver(); err != nil {
		return err
	}
	d.VictoriaMetrics, err = startProc(s.cfg.Dir, "victoriametrics", s.cfg.Bin.VictoriaMetrics, []string{
		"-storageDataPath", filepath.Join(s.cfg.Dir, "victoriametrics-data"),
		"-httpListenAddr", addr(p.VictoriaMetrics),
		// service.name becomes service_name, auth.event auth_event, and
		// otelbearer.authn.outcomes otelbearer_authn_outcomes_total.
		"-opentelemetry.usePrometheusNaming",
		// Samples are queryable a second after they arrive, not 30.
		"-search.latencyOffset", "1s",
	}, nil)
	if err != nil {
		return err
	}
	return d.VictoriaMetrics.waitHTTP(ctx, s.VictoriaMetricsURL()+"/health", s.cfg.ReadyTimeout)
}

// startVMAlert starts both vmalert processes.
func (s *Stack) startVMAlert(ctx context.Context) error {
	d := s.Detect
	common := []string{
		"-notifier.url", d.Receiver.URL(),
		"-evaluationInterval", d.Ports.EvalInterval.String(),
		"-rule.evalDelay", "0s", // the pipeline delivers within a second or two
	}
	var err error
	d.VMAlertLogs, err = startProc(s.cfg.Dir, "vmalert-logs", s.cfg.Bin.VMAlert, append([]string{
		"-rule", filepath.Join(s.cfg.Root, "alerts", "logs.rules.yml"),
		"-rule.defaultRuleType", "vlogs",
		"-datasource.url", s.VictoriaLogsURL(),
		"-httpListenAddr", addr(d.Ports.VMAlertLogs),
		"-external.url", s.VMAlertLogsURL(),
	}, common...), nil)
	if err == nil {
		err = d.VMAlertLogs.waitHTTP(ctx, s.VMAlertLogsURL()+"/health", s.cfg.ReadyTimeout)
	}
	if err != nil {
		return err
	}
	d.VMAlertMetrics, err = startProc(s.cfg.Dir, "vmalert-metrics", s.cfg.Bin.VMAlert, append([]string{
		"-rule", filepath.Join(s.cfg.Root, "alerts", "metrics.rules.yml"),
		"-datasource.url", s.VictoriaMetricsURL(),
		"-httpListenAddr", addr(d.Ports.VMAlertMetrics),
		"-external.url", s.VMAlertMetricsURL(),
	}, common...), nil)
	if err != nil {
		return err
	}
	return d.VMAlertMetrics.waitHTTP(ctx, s.VMAlertMetricsURL()+"/health", s.cfg.ReadyTimeout)
}

// stopDetection stops what startDetection and startVMAlert started: the
// vmalert processes, VictoriaMetrics, then the receiver.
func (s *Stack) stopDetection() error {
	d := s.Detect
	if d == nil {
		return nil
	}
	var errs []error
	for _, p := range []*Proc{d.VMAlertLogs, d.VMAlertMetrics, d.VictoriaMetrics} {
		if p != nil {
			errs = append(errs, p.Stop(15*time.Second))
		}
	}
	if d.Receiver != nil {
		errs = append(errs, d.Receiver.Close())
	}
	return errors.Join(errs...)
}

// VictoriaMetricsURL is the base URL of VictoriaMetrics.
func (s *Stack) VictoriaMetricsURL() string { return "http://" + addr(s.Detect.Ports.VictoriaMetrics) }

// VMAlertLogsURL is the base URL of the vmalert evaluating the LogsQL rules.
func (s *Stack) VMAlertLogsURL() string { return "http://" + addr(s.Detect.Ports.VMAlertLogs) }

// VMAlertMetricsURL is the base URL of the vmalert evaluating the MetricsQL
// rules.
func (s *Stack) VMAlertMetricsURL() string { return "http://" + addr(s.Detect.Ports.VMAlertMetrics) }

// Alert is one alert as vmalert sends it to an Alertmanager
// (POST /api/v2/alerts).
type Alert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	// Received is when the receiver first got this alert.
	Received time.Time `json:"-"`
}

// Name is the alert's alertname label.
func (a Alert) Name() string { return a.Labels["alertname"] }

// key identifies an alert by its labels.
func (a Alert) key() string {
	keys := make([]string, 0, len(a.Labels))
	for k := range a.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, a.Labels[k])
	}
	return b.String()
}

// AlertReceiver is a minimal Alertmanager stand-in on loopback: it accepts
// the Alertmanager v2 API's POST /api/v2/alerts, keeps every distinct
// alert (by label set) with the last state received, and serves them back
// as JSON on GET /api/v2/alerts. Alertmanager itself does not build from
// its Go module (its web UI assets are not in the module).
type AlertReceiver struct {
	srv *http.Server
	lis net.Listener

	mu     sync.Mutex
	alerts map[string]*Alert
	raw    []byte // every request body, for leak checks
}

// NewAlertReceiver starts a receiver on a free loopback port.
func NewAlertReceiver() (*AlertReceiver, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &AlertReceiver{lis: lis, alerts: map[string]*Alert{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/alerts", r.post)
	mux.HandleFunc("GET /api/v2/alerts", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(r.Alerts())
	})
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.srv.Serve(lis) }()
	return r, nil
}

func (r *AlertReceiver) post(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 16<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in []Alert
	if err := json.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.raw = append(append(r.raw, body...), '\n')
	for _, a := range in {
		k := a.key()
		if old, ok := r.alerts[k]; ok {
			a.Received = old.Received
		} else {
			a.Received = now
		}
		r.alerts[k] = &a
	}
	w.WriteHeader(http.StatusOK)
}

// URL is the receiver's base URL (vmalert's -notifier.url).
func (r *AlertReceiver) URL() string { return "http://" + r.lis.Addr().String() }

// Alerts returns every alert received, firing or resolved, sorted by name
// and labels.
func (r *AlertReceiver) Alerts() []Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Alert, 0, len(r.alerts))
	for _, a := range r.alerts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.key(), b.key()) })
	return out
}

// Raw returns every request body received, one per line.
func (r *AlertReceiver) Raw() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.raw)
}

// Close stops the receiver.
func (r *AlertReceiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return r.srv.Shutdown(ctx)
}

// VMAlertAlerts returns the alerts a vmalert currently holds (pending or
// firing) from its /api/v1/alerts, with the raw JSON (for leak checks).
func VMAlertAlerts(ctx context.Context, base string) ([]Alert, []byte, error) {
	raw, err := get(ctx, base+"/api/v1/alerts")
	if err != nil {
		return nil, nil, err
	}
	var resp struct {
		Data struct {
			Alerts []struct {
				Name        string            `json:"name"`
				State       string            `json:"state"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
				ActiveAt    time.Time         `json:"activeAt"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &resp); err != nil {
		return nil, raw, fmt.Errorf("vmalert: %w", err)
	}
	var out []Alert
	for _, a := range resp.Data.Alerts {
		if a.State != "firing" {
			continue
		}
		out = append(out, Alert{Labels: a.Labels, Annotations: a.Annotations, StartsAt: a.ActiveAt})
	}
	return out, raw, nil
}

// MetricsQL runs an instant MetricsQL query against VictoriaMetrics and
// returns the raw JSON answer.
func MetricsQL(ctx context.Context, base, query string) ([]byte, error) {
	return get(ctx, base+"/api/v1/query?"+url.Values{"query": {query}}.Encode())
}
