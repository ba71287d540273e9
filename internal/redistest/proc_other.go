//go:build !linux

package redistest

import "os/exec"

// dieWithParent has no portable equivalent of Pdeathsig; elsewhere a server
// outlives a test binary that dies without running its cleanups.
func dieWithParent(*exec.Cmd) {}
