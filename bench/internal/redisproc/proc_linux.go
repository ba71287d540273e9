//go:build linux

package redisproc

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the server when the benchmark binary
// dies before it could stop it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
