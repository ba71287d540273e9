package doccheck

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDocCommandsRun runs the commands of each document in order, as a
// reader would, in a session of its own:
//
//   - ports the docs use (8080, 6379, 7000-7005, 26379 ...) are swapped for
//     free ones, the same swap throughout a document, so that nothing
//     collides with a server already running;
//   - go run starts the program (with -addr on the free port for 8080 when
//     the command gives none), waits for its "listening on" banner and
//     keeps it running until the next go run or the end of the document;
//     one that names a non-local Redis is only checked for its flags;
//   - redis-server starts in a scratch directory and keeps running until
//     the end of the document; redis-cli runs there; after
//     "redis-cli --cluster create" the test waits for cluster_state:ok;
//   - curl runs with --fail; "<token>" stands for the last token an earlier
//     command printed;
//   - go build, vet, doc and list run (go build writes to a scratch
//     directory); go test runs as go test -list with the -run, -bench or
//     -fuzz pattern, which must select something;
//   - make is not run here (make test would run this test); its target is
//     checked by TestDocCommandsKnown.
//
// Without redis-server, redis-cli or curl a document stops where it needs
// them (skipped), unless GATEHOUSE_REQUIRE_REDIS=1 (make test, make
// docs-check), where that fails.
func TestDocCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: commands are only checked to be known")
	}
	root := repoRoot(t)
	docs := docCommands(t, root)
	files := make([]string, 0, len(docs))
	for f := range docs {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, file := range files {
		t.Run(strings.ReplaceAll(file, "/", "_"), func(t *testing.T) {
			s := &session{t: t, root: root, tmp: t.TempDir(), ports: map[string]string{}}
			t.Cleanup(s.stopAll)
			for _, c := range docs[file] {
				s.run(c)
				if t.Failed() {
					return // later commands build on this one
				}
			}
		})
	}
}

type session struct {
	t     *testing.T
	root  string
	tmp   string
	ports map[string]string // documented port → free port
	procs []*proc
	app   *proc // the program go run started
	token string
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

var docPorts = regexp.MustCompile(`\b(6379|638[0-9]|70[0-9][0-9]|8080|808[1-9]|26379|2638[0-9])\b`)

// remap swaps the documented ports in arg for this session's free ones.
func (s *session) remap(arg string) string {
	return docPorts.ReplaceAllStringFunc(arg, func(p string) string {
		if q, ok := s.ports[p]; ok {
			return q
		}
		q := freePort(s.t, s.ports)
		s.ports[p] = q
		return q
	})
}

// freePort returns a free loopback port whose Cluster bus port (+10000)
// is free too.
func freePort(t *testing.T, taken map[string]string) string {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ok := p+10000 < 65536
		if ok {
			bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
			ok = err == nil
			if ok {
				bus.Close()
			}
		}
		ln.Close()
		q := strconv.Itoa(p)
		for _, used := range taken {
			ok = ok && used != q
		}
		if ok {
			return q
		}
	}
	t.Fatal("no free port pair found")
	return ""
}

func (s *session) need(c command, tool string) bool {
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("GATEHOUSE_REQUIRE_REDIS") == "1" {
			s.t.Fatalf("%v\n\tneeds %s, which is not installed (make deps installs Redis)", c, tool)
		}
		s.t.Skipf("%v\n\tneeds %s, which is not installed; skipping the rest of %s", c, tool, c.file)
		return false
	}
	return true
}

func (s *session) run(c command) {
	t := s.t
	t.Logf("%v", c)
	args := slices.Clone(c.args)
	switch kind(args) {
	case "make", "":
		// Checked by TestDocCommandsKnown.
	case "go run":
		s.goRun(c, args)
	case "go build":
		if !slices.ContainsFunc(args, func(a string) bool { return a == "-o" || strings.HasPrefix(a, "-o=") }) {
			args = slices.Insert(args, 2, "-o", s.tmp+string(filepath.Separator))
		}
		s.exec(c, s.root, args, 5*time.Minute)
	case "go vet", "go list":
		s.exec(c, s.root, args, 5*time.Minute)
	case "go doc":
		if out := s.exec(c, s.root, args, time.Minute); strings.TrimSpace(out) == "" {
			t.Errorf("%v\n\tgo doc printed nothing", c)
		}
	case "go test":
		s.goTestList(c, args)
	case "redis-server":
		if s.need(c, "redis-server") {
			s.redisServer(c, args)
		}
	case "redis-cli":
		if s.need(c, "redis-cli") {
			s.redisCLI(c, args)
		}
	case "curl":
		if s.need(c, "curl") {
			s.curl(c, args)
		}
	}
}

// exec runs a command to its end and returns its output; a failure fails
// the test.
func (s *session) exec(c command, dir string, args []string, timeout time.Duration) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), c.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Errorf("%v\n\tran as %q in %s: %v\n%s", c, args, dir, err, out)
	} else {
		s.t.Logf("\t%.300s", strings.ReplaceAll(strings.TrimSpace(string(out)), "\n", "\n\t"))
	}
	return string(out)
}

var hostPort = regexp.MustCompile(`([A-Za-z0-9.\-]+):(\d+)`)

func loopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

func (s *session) goRun(c command, args []string) {
	t := s.t
	for _, a := range args[3:] {
		for _, m := range hostPort.FindAllStringSubmatch(a, -1) {
			if !loopback(m[1]) {
				s.checkFlags(c, args)
				return
			}
		}
	}
	if s.app != nil {
		s.stop(s.app)
		s.app = nil
	}
	for i := range args {
		args[i] = s.remap(args[i])
	}
	if !slices.ContainsFunc(args, func(a string) bool { return a == "-addr" || strings.HasPrefix(a, "-addr=") }) {
		args = append(args, "-addr", "127.0.0.1:"+s.remap("8080"))
	}
	p := s.start(c, s.root, args)
	s.app = p
	deadline := time.After(3 * time.Minute) // the first go run compiles
	for {
		if strings.Contains(p.out.String(), "listening on") {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%v\n\tran as %q: it ended before printing \"listening on\":\n%s", c, args, p.out)
		case <-deadline:
			t.Fatalf("%v\n\tran as %q: no \"listening on\" after 3 minutes:\n%s", c, args, p.out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkFlags checks a go run that would need machines the test does not
// have: the program builds, and it defines every flag the command gives.
func (s *session) checkFlags(c command, args []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", args[2], "-h")
	cmd.Dir = s.root
	out, _ := cmd.CombinedOutput() // -h exits 2
	if !strings.Contains(string(out), "Usage of") {
		s.t.Errorf("%v\n\tgo run %s -h printed no usage:\n%s", c, args[2], out)
		return
	}
	for _, a := range args[3:] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(name) + `\b`).Match(out) {
			s.t.Errorf("%v\n\t%s has no flag -%s:\n%s", c, args[2], name, out)
		}
	}
}

// goTestList runs go test -list with the command's pattern: the packages
// compile and the pattern selects at least one test, benchmark, fuzz
// target or example.
func (s *session) goTestList(c command, args []string) {
	pattern := "."
	list := []string{"go", "test", "-list"}
	var pkgs []string
	for i := 2; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case !strings.HasPrefix(a, "-"):
			pkgs = append(pkgs, a)
		case name == "run" || name == "bench" || name == "fuzz" || name == "tags":
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			if name == "tags" {
				list = append(list, "-tags", val)
			} else if pattern == "." || name != "run" {
				pattern = val
			}
		case !hasVal && slices.Contains([]string{"count", "timeout", "fuzztime", "benchtime", "cpu", "p", "parallel", "coverprofile", "cpuprofile", "memprofile"}, name):
			i++ // a flag with a separate value
		}
	}
	list = append(list, pattern)
	list = append(list, pkgs...)
	out := s.exec(c, s.root, list, 5*time.Minute)
	for _, line := range strings.Split(out, "\n") {
		if line != "" && !strings.HasPrefix(line, "ok ") && !strings.HasPrefix(line, "? ") {
			return
		}
	}
	if !s.t.Failed() {
		s.t.Errorf("%v\n\t%q selects nothing:\n%s", c, list, out)
	}
}

func (s *session) redisServer(c command, args []string) {
	orig := slices.Clone(args)
	for try := 1; ; try++ {
		args := slices.Clone(orig)
		port := ""
		for i := range args {
			args[i] = s.remap(args[i])
			if i > 0 && args[i-1] == "--port" {
				port = args[i]
			}
		}
		if port == "" {
			s.t.Fatalf("%v\n\tgive redis-server a --port", c)
		}
		p := s.start(c, s.tmp, args)
		if s.awaitRedis(c, p, args, port, try) {
			return
		}
		// Another test process took the port (or its Cluster bus port)
		// between freePort's check and redis-server's bind: the same
		// documented ports, mapped anew.
		for _, doc := range docPorts.FindAllString(strings.Join(orig, " "), -1) {
			delete(s.ports, doc)
		}
	}
}

// awaitRedis waits for the redis-server p to answer PING on port. It
// reports false when the server ended because its port was taken and
// try leaves room for another; any other end fails the test.
func (s *session) awaitRedis(c command, p *proc, args []string, port string, try int) bool {
	deadline := time.Now().Add(30 * time.Second)
	for !ping(port) {
		select {
		case <-p.done:
			if try < 3 && strings.Contains(p.out.String(), "Address already in use") {
				return false
			}
			s.t.Fatalf("%v\n\tran as %q: redis-server ended:\n%s", c, args, p.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%v\n\tran as %q: no PONG on port %s after 30s:\n%s", c, args, port, p.out)
		}
	}
	return true
}

func ping(port string) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return false
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.HasPrefix(line, "+PONG")
}

func (s *session) redisCLI(c command, args []string) {
	for i := range args {
		args[i] = s.remap(args[i])
	}
	out := s.exec(c, s.tmp, args, time.Minute)
	if strings.Contains(out, "ERR") || strings.Contains(out, "(error)") || strings.Contains(out, "Could not connect") {
		s.t.Errorf("%v\n\tran as %q:\n%s", c, args, out)
	}
	if !slices.Contains(args, "--cluster") || !slices.Contains(args, "create") {
		return
	}
	// Wait until every node of the new cluster agrees that it is ok.
	deadline := time.Now().Add(30 * time.Second)
	for _, node := range args {
		m := hostPort.FindStringSubmatch(node)
		if m == nil || m[0] != node {
			continue
		}
		for {
			info, _ := exec.Command("redis-cli", "-h", m[1], "-p", m[2], "cluster", "info").Output()
			if bytes.Contains(info, []byte("cluster_state:ok")) {
				break
			}
			if time.Now().After(deadline) {
				s.t.Fatalf("%v\n\tnode %s not cluster_state:ok after 30s:\n%s", c, node, info)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

var tokenText = regexp.MustCompile(`gh[a-z]_[a-z2-7]{4}_[A-Za-z0-9_-]{43}`)

func (s *session) curl(c command, args []string) {
	for i := range args {
		if strings.Contains(args[i], "<token>") {
			if s.token == "" {
				s.t.Fatalf("%v\n\tno earlier command printed a token for <token>", c)
			}
			args[i] = strings.ReplaceAll(args[i], "<token>", s.token)
		}
		args[i] = s.remap(args[i])
	}
	args = slices.Insert(args, 1, "--fail", "--show-error", "--max-time", "20")
	out := s.exec(c, s.tmp, args, 30*time.Second)
	if tok := tokenText.FindString(out); tok != "" {
		s.token = tok
	}
}

// start runs a long-lived command in its own process group (go run starts
// the program as a child of its own).
func (s *session) start(c command, dir string, args []string) *proc {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), c.env...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("%v\n\t%v", c, err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { cmd.Wait(); close(p.done) }()
	s.procs = append(s.procs, p)
	return p
}

// stop interrupts the process group, as Ctrl-C would, and kills it if it
// has not ended within ten seconds.
func (s *session) stop(p *proc) {
	interruptGroup(p.cmd)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		killGroup(p.cmd)
		<-p.done
	}
}

func (s *session) stopAll() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.stop(s.procs[i])
	}
	if s.t.Failed() {
		for _, p := range s.procs {
			s.t.Logf("output of %q:\n%s", p.cmd.Args, p.out)
		}
	}
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
