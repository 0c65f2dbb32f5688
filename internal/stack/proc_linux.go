//go:build linux

package stack

import "syscall"

// sysProcAttr puts a child in its own process group (so the group can be
// signalled as a whole) and kills it if this process dies first, so a
// crashed test or demo leaves no orphans.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }
