// Package examples_test checks what the examples promise: each is a
// template an app copies alone as the start of its own module.
package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestExamplesAreTemplates copies the non-test Go files of every example
// (a directory here with a main.go) into a fresh module of its own, as an
// app author would, points github.com/gatehouse-go/gatehouse at this
// checkout, and builds and vets the copy. A copy fails to build when its
// code imports an internal package of gatehouse (examples/internal/... or
// internal/...): another module cannot. Test files are not copied: test
// helpers are not part of the template.
//
// Modules resolve from the module cache (GOPROXY=off), at the versions of
// gatehouse's go.mod; only if the cache is not enough does it run go mod
// tidy with the environment's GOPROXY, and it skips when that cannot be
// reached.
func TestExamplesAreTemplates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every example in a module of its own; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mains, err := filepath.Glob("*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range mains {
		if dir := filepath.Dir(m); dir != "internal" {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) < 6 {
		t.Fatalf("found the examples %v; want at least 6 (is the test running in examples/?)", dirs)
	}
	for _, dir := range dirs {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			copyDir := copyExample(t, dir, root)
			env := goEnv("off")
			if out, err := run(t, copyDir, env, goCmd, "list", "-deps", "./..."); err != nil && bytes.Contains(out, []byte("GOPROXY=off")) {
				proxyOut, err := run(t, root, nil, goCmd, "env", "GOPROXY")
				if err != nil {
					t.Fatalf("go env GOPROXY: %v\n%s", err, proxyOut)
				}
				proxy := strings.TrimSpace(string(proxyOut))
				t.Logf("the module cache is not enough for a copy of examples/%s:\n%s\nrunning go mod tidy with GOPROXY=%s", dir, out, proxy)
				env = goEnv(proxy)
				if out, err := run(t, copyDir, env, goCmd, "mod", "tidy"); err != nil {
					if unreachable(out) {
						t.Skipf("go mod tidy needs the network, which is unreachable: %v\n%s", err, out)
					}
					t.Fatalf("go mod tidy in a copy of examples/%s: %v\n%s", dir, err, out)
				}
			}
			for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
				if out, err := run(t, copyDir, env, goCmd, args...); err != nil {
					t.Errorf("go %s in a copy of examples/%s (its own module, as an app copies it): %v\n%s",
						strings.Join(args, " "), dir, err, out)
				}
			}
		})
	}
}

// notTemplate are example files an app leaves out when it copies the
// example: social/devprovider.go starts gatehouse's internal test provider
// for the example's dev mode, which another module cannot import; the
// example builds and runs without it (its -dev-provider then says so).
var notTemplate = map[string]bool{"social/devprovider.go": true}

// copyExample copies the non-test .go files of examples/dir into a new
// module in a temporary directory, requiring gatehouse from root. An
// example that is a module of its own (examples/chi) keeps its go.mod and
// go.sum, renamed and pointed at root; the others start from root's go.mod
// and go.sum, renamed, so that the versions gatehouse is tested with
// resolve from the module cache without a network.
func copyExample(t *testing.T, dir, root string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || notTemplate[dir+"/"+name] {
			continue
		}
		writeFile(t, filepath.Join(dst, name), readFile(t, filepath.Join(dir, name)))
	}
	replace := "replace github.com/gatehouse-go/gatehouse => " + strings.ReplaceAll(root, `\`, `/`) + "\n"
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	switch {
	case err == nil:
		goMod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(goMod, []byte("module example.com/copy"))
		goMod = regexp.MustCompile(`(?m)^replace github.com/gatehouse-go/gatehouse => .*\n`).ReplaceAll(goMod, nil)
		goMod = append(goMod, replace...)
		writeFile(t, filepath.Join(dst, "go.sum"), readFile(t, filepath.Join(dir, "go.sum")))
	case os.IsNotExist(err):
		goMod = regexp.MustCompile(`(?m)^module .*$`).ReplaceAll(readFile(t, filepath.Join(root, "go.mod")), []byte("module example.com/copy"))
		goMod = append(goMod, "\nrequire github.com/gatehouse-go/gatehouse v0.0.0\n\n"+replace...)
		writeFile(t, filepath.Join(dst, "go.sum"), readFile(t, filepath.Join(root, "go.sum")))
	default:
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dst, "go.mod"), goMod)
	return dst
}

// goEnv is the environment of the go commands on a copy: this one's, with
// the proxy given, module downloads allowed to update go.mod, no
// workspace, and the local toolchain.
func goEnv(proxy string) []string {
	return append(os.Environ(),
		"GOPROXY="+proxy,
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"),
		"GOWORK=off",
		"GOTOOLCHAIN=local",
	)
}

// run runs a command in dir with env (nil: this process's) and returns its
// combined output. It gives up after two minutes.
func run(t *testing.T, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	return cmd.CombinedOutput()
}

// unreachable reports whether go's output says the network could not be
// reached, rather than that the code is wrong.
func unreachable(out []byte) bool {
	for _, s := range []string{"dial tcp", "no such host", "i/o timeout", "connection refused", "network is unreachable", "TLS handshake timeout"} {
		if bytes.Contains(out, []byte(s)) {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, name string, data []byte) {
	t.Helper()
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
