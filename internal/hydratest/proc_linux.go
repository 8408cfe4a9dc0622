//go:build linux

package hydratest

import "syscall"

// sysProcAttr makes the kernel kill Hydra when the test process dies, so a
// crashed or timed-out test binary leaves no Hydra behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
