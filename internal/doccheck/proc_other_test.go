//go:build !unix

package doccheck

import "os/exec"

func setGroup(*exec.Cmd) {}

func interruptGroup(c *exec.Cmd) { _ = c.Process.Kill() }

func killGroup(c *exec.Cmd) { _ = c.Process.Kill() }
