//go:build unix && !linux

package stack

import "syscall"

// sysProcAttr puts a child in its own process group, so the group can be
// signalled as a whole. (Only Linux also has a parent-death signal.)
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// signalGroup sends sig to the process group led by pid.
func signalGroup(pid int, sig syscall.Signal) error { return syscall.Kill(-pid, sig) }
