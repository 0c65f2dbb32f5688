package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one child process of the stack. Its standard output and
// standard error go to LogPath. It runs in its own process group, so
// stopping it also stops anything it started.
type Proc struct {
	// Name names the process in messages ("collector", "jaeger", ...).
	Name string
	// LogPath is the file that receives the process's output.
	LogPath string

	cmd     *exec.Cmd
	logFile *os.File
	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed

	stopOnce sync.Once
	stopErr  error
}

// startProc starts bin with args and env (added to the parent's
// environment) and writes its output to dir/name.log (appended, so a
// restarted process keeps one log).
func startProc(dir, name, bin string, args, env []string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, LogPath: logPath, cmd: cmd, logFile: f, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the process group, waits up to grace for the
// process to exit, then kills the group. It is safe to call more than
// once. It returns an error when the process had to be killed, or when
// it had already exited on its own before Stop (a crash the caller
// should hear about), with the tail of its output.
func (p *Proc) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		if p.Exited() {
			p.stopErr = p.exitError("exited early")
			return
		}
		_ = signalGroup(p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
			// Killed by our own SIGTERM counts as a clean stop.
		case <-time.After(grace):
			_ = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			p.stopErr = fmt.Errorf("%s did not stop within %s after SIGTERM; killed", p.Name, grace)
		}
		// Anything left in the group (none expected) goes too.
		_ = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
	})
	return p.stopErr
}

// Kill sends SIGKILL to the process group and waits for the process to
// exit. Stop afterwards reports no error for it.
func (p *Proc) Kill() error {
	var err error
	p.stopOnce.Do(func() {
		if p.Exited() {
			err = p.exitError("exited before it was killed")
			return
		}
		err = signalGroup(p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return err
}

// exitError describes how the process ended, with the tail of its log.
func (p *Proc) exitError(what string) error {
	return fmt.Errorf("%s %s (%v); last output:\n%s", p.Name, what, p.waitErr, p.Tail(20))
}

// Tail returns the last n lines of the process's log.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP polls url until it answers 200, the process exits, or timeout
// passes.
func (p *Proc) waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return p.exitError("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s after %s; last output:\n%s", p.Name, url, timeout, p.Tail(20))
		case <-tick.C:
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// port returns preferred when it is non-zero and free on 127.0.0.1, else
// a free port.
func port(preferred int) (int, error) {
	if preferred > 0 {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(preferred))); err == nil {
			l.Close()
			return preferred, nil
		}
	}
	return freePort()
}

// ports fills every *int in ps with port(*p) and fails on the first
// error. Ports handed out in one call are distinct.
func ports(ps ...*int) error {
	seen := map[int]bool{}
	for _, p := range ps {
		for tries := 0; ; tries++ {
			n, err := port(*p)
			if err != nil {
				return err
			}
			if !seen[n] {
				seen[n] = true
				*p = n
				break
			}
			if tries > 20 {
				return errors.New("stack: could not find distinct free ports")
			}
			*p = 0
		}
	}
	return nil
}

// addr returns "127.0.0.1:port".
func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
