//go:build unix

package stack

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gone reports whether pid has disappeared, or is a zombie (dead, waiting
// to be reaped by whatever process adopted it: on a busy machine a
// container's init may take seconds), within ten seconds.
func gone(pid int) bool {
	for range 200 {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) || zombie(pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// zombie reports whether /proc says pid has exited but not been reaped
// (false where there is no /proc).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func TestStopKillsTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p, err := startProc(dir, "sh", "/bin/sh", []string{"-c", "sleep 300 & echo $! > " + pidFile + "; wait"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var child int
	for range 100 {
		if b, err := os.ReadFile(pidFile); err == nil && strings.TrimSpace(string(b)) != "" {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if child == 0 {
		t.Fatal("grandchild did not start")
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() || !gone(p.Pid()) || !gone(child) {
		t.Fatalf("processes left: sh %d exited=%v, sleep %d gone=%v", p.Pid(), p.Exited(), child, gone(child))
	}
	if err := p.Stop(time.Second); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	dir := t.TempDir()
	p, err := startProc(dir, "stubborn", "/bin/sh", []string{"-c", "trap '' TERM; echo started; while :; do sleep 0.05; done"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(p.Tail(1), "started") {
		time.Sleep(20 * time.Millisecond)
	}
	err = p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop = %v, want a 'killed' error", err)
	}
	if !gone(p.Pid()) {
		t.Fatal("stubborn process survived")
	}
}

func TestWaitHTTPReportsEarlyExit(t *testing.T) {
	dir := t.TempDir()
	p, err := startProc(dir, "failing", "/bin/sh", []string{"-c", "echo cannot bind; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	err = p.waitHTTP(context.Background(), "http://"+addr(port)+"/", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "cannot bind") {
		t.Fatalf("waitHTTP = %v, want early exit with the process output", err)
	}
	if err := p.Stop(time.Second); err == nil {
		t.Fatal("Stop after an early exit should report it")
	}
}

func TestPortsAreDistinct(t *testing.T) {
	a, b, c := 0, 0, 0
	if err := ports(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a == b || b == c || a == c || a == 0 {
		t.Fatalf("ports %d %d %d", a, b, c)
	}
	// A taken preferred port is replaced.
	l, err := net.Listen("tcp", addr(a))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	d := a
	if err := ports(&d); err != nil {
		t.Fatal(err)
	}
	if d == a {
		t.Fatalf("taken port %d handed out", a)
	}
}

func TestKillIgnoresSIGTERMTraps(t *testing.T) {
	dir := t.TempDir()
	p, err := startProc(dir, "stubborn", "/bin/sh", []string{"-c", "trap '' TERM; while :; do sleep 0.05; done"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil { // SIGTERM would be ignored; SIGKILL cannot be
		t.Fatal(err)
	}
	if !p.Exited() || !gone(p.Pid()) {
		t.Fatalf("process %d still there after Kill", p.Pid())
	}
	if err := p.Stop(time.Second); err != nil { // a killed process stops cleanly
		t.Fatal(err)
	}
}
