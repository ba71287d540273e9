//go:build unix

package doccheck

import (
	"os/exec"
	"syscall"
)

// setGroup puts the command in a process group of its own, so that the
// program go run starts is stopped with it.
func setGroup(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func interruptGroup(c *exec.Cmd) { _ = syscall.Kill(-c.Process.Pid, syscall.SIGINT) }

func killGroup(c *exec.Cmd) { _ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
