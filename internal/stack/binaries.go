package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Binaries are the paths of the programs a stack runs.
type Binaries struct {
	Collector, Jaeger, VictoriaLogs string
	// VictoriaMetrics and VMAlert run the detection rules (alerts/).
	VictoriaMetrics, VMAlert string
	// Example is the example service, built by BuildExample.
	Example string
}

// BuildHint is the command that builds the pipeline binaries.
const BuildHint = "tools/build.sh all   (or: make tools; a cold build takes 5-15 minutes)"

// FindBinaries asks tools/build.sh for the cached binaries' paths (it
// builds nothing) and reports those that are missing, naming the command
// that builds them.
func FindBinaries(root string) (Binaries, error) {
	var b Binaries
	var missing []string
	for _, c := range []struct {
		name string
		dst  *string
	}{{"collector", &b.Collector}, {"jaeger", &b.Jaeger}, {"victorialogs", &b.VictoriaLogs},
		{"victoriametrics", &b.VictoriaMetrics}, {"vmalert", &b.VMAlert}} {
		cmd := exec.Command("bash", filepath.Join(root, "tools", "build.sh"), "path", c.name)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return b, fmt.Errorf("tools/build.sh path %s: %v: %s", c.name, err, stderr.String())
		}
		*c.dst = strings.TrimSpace(string(out))
		if fi, err := os.Stat(*c.dst); err != nil || fi.IsDir() {
			missing = append(missing, c.name+" ("+*c.dst+")")
		}
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("missing binaries: %s; build them with: %s", strings.Join(missing, ", "), BuildHint)
	}
	return b, nil
}

// BuildExample builds the demo service (root/internal/demo/service)
// into dir and returns the binary's path.
func BuildExample(ctx context.Context, root, dir string) (string, error) {
	out := filepath.Join(dir, "example")
	cmd := exec.CommandContext(ctx, "go", "build", "-C", root, "-o", out, "./internal/demo/service")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./internal/demo/service: %v\n%s", err, b)
	}
	return out, nil
}

// Mint runs "bin mint args..." with env added and returns the token it
// prints.
func Mint(ctx context.Context, bin string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, append([]string{"mint"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("example mint %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("example mint %s: unexpected output %q", strings.Join(args, " "), out)
	}
	return tok, nil
}

// RepoRoot walks up from the working directory to the directory holding
// collector-config.yaml and go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "collector-config.yaml")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("stack: repository root (collector-config.yaml) not found above the working directory")
		}
		dir = parent
	}
}

// ClientFrom returns an HTTP client whose connections leave from the
// loopback address ip (e.g. "127.0.0.7"), so the server sees distinct
// client addresses. Keep-alives are off: each request is its own
// connection.
func ClientFrom(ip string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if ip != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:       d.DialContext,
			DisableKeepAlives: true,
		},
	}
}
