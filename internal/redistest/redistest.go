// Package redistest starts real redis-server processes for tests: a
// standalone server, a three-master cluster, or a master with a replica and
// a sentinel. The Redis store is tested against the real thing because a fake
// would not show what matters there: slot redirections, failovers, and a
// server that dies or comes back empty mid-test.
//
// Every server gets its own free loopback port and temporary directory, keeps
// nothing on disk, and is killed when the test ends.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	requireEnv = "GATEHOUSE_REQUIRE_REDIS"

	// readyTimeout is generous because -race and a busy CI machine slow
	// everything down; a healthy start takes well under a second, a cluster
	// or sentinel setup a few seconds.
	readyTimeout = 20 * time.Second
	pollEvery    = 25 * time.Millisecond
)

// Require skips t when redis-server or redis-cli is not on PATH, unless
// GATEHOUSE_REQUIRE_REDIS=1, where it fails t: CI sets it so that a missing
// install cannot pass as a green run of skipped tests.
func Require(t testing.TB) {
	t.Helper()
	var missing []string
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing = append(missing, bin)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv(requireEnv) == "1" {
		t.Fatalf("%s not found on PATH and %s=1; run `make test` (installs it) or install the redis-server package",
			strings.Join(missing, " and "), requireEnv)
	}
	t.Skip("redis-server not found; run `make test` (installs it) or set GATEHOUSE_REQUIRE_REDIS=1 to fail instead")
}

// Server is one redis-server process.
type Server struct {
	Addr string // "127.0.0.1:port"

	t    testing.TB
	dir  string
	port int
	args func(port int) []string // rebuilt per start so a retry can move ports

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has been reaped
}

// Standalone starts a fresh standalone server and kills it when t ends.
// Extra redis-server arguments follow the defaults and so override them
// (e.g. "--appendonly", "yes" for a server whose data survives Restart).
func Standalone(t testing.TB, extra ...string) *Server {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	return launch(t, dir, false, func(port int) []string { return append(baseArgs(dir, port), extra...) })
}

// Pause stops the server's process (SIGSTOP) without closing its sockets,
// as a stalled machine or a long GC would: clients connect and send, and
// nothing answers until Resume.
func (s *Server) Pause() { s.signal(syscall.SIGSTOP) }

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() { s.signal(syscall.SIGCONT) }

func (s *Server) signal(sig syscall.Signal) {
	s.t.Helper()
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		s.t.Fatalf("redistest: %s is not running", s.Addr)
	}
	if err := cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("redistest: %v to %s: %v", sig, s.Addr, err)
	}
}

// Kill stops the server at once (SIGKILL), as a crash or a lost machine
// would, and returns once the process is gone. Safe to call twice.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill() // os.ErrProcessDone when it already exited: fine
	<-done
}

// Restart kills the server if it still runs and starts it again on the same
// port, so clients configured with Addr reconnect to it. Its data is gone
// unless the server was started with persistence turned on.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	if err := s.start(); err != nil {
		s.t.Fatalf("redistest: restart %s: %v", s.Addr, err)
	}
}

// Cluster is a Redis Cluster of 3 masters (no replicas).
type Cluster struct {
	Addrs []string

	servers []*Server
}

// StartCluster starts a 3-master cluster and returns once a cluster client
// can write to every master; it is killed when t ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 0)
}

// StartClusterWithReplicas starts 3 masters with one replica each, for
// failover tests, and returns once every replica is in sync.
func StartClusterWithReplicas(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 1)
}

// Server returns the cluster's server listening on addr, or nil.
func (c *Cluster) Server(addr string) *Server {
	for _, s := range c.servers {
		if s.Addr == addr {
			return s
		}
	}
	return nil
}

func startCluster(t testing.TB, replicas int) *Cluster {
	t.Helper()
	Require(t)
	c := &Cluster{}
	nodes := 3 * (1 + replicas)
	for range nodes {
		dir := t.TempDir()
		s := launch(t, dir, true, func(port int) []string {
			return append(baseArgs(dir, port),
				"--cluster-enabled", "yes",
				// Named by port: a start retried on another port must
				// not inherit a node identity bound to the old one.
				"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
				"--cluster-node-timeout", "2000",
			)
		})
		c.servers = append(c.servers, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redistest: redis-cli --cluster create: %v\n%s%s", err, out, logTails(c.servers))
	}

	waitFor(t, "cluster", c.servers, func(ctx context.Context) error {
		// Every node must agree, not just one: a client may be seeded
		// with any of them and would be redirected wrongly otherwise.
		for _, addr := range c.Addrs {
			rc := redis.NewClient(pollOptions(addr))
			info, err := rc.ClusterInfo(ctx).Result()
			repl, rerr := rc.Info(ctx, "replication").Result()
			rc.Close()
			if rerr == nil && strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("%s: replica not in sync with its master", addr)
			}
			if err != nil {
				return fmt.Errorf("%s: CLUSTER INFO: %w", addr, err)
			}
			for _, want := range []string{"cluster_state:ok", fmt.Sprintf("cluster_known_nodes:%d", nodes), "cluster_slots_ok:16384"} {
				if !strings.Contains(info, want) {
					return fmt.Errorf("%s: CLUSTER INFO lacks %s", addr, want)
				}
			}
		}
		// A fresh client each attempt: one that loaded the slot map while
		// the cluster was still forming would keep the stale map.
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        c.Addrs,
			DialTimeout:  time.Second,
			ReadTimeout:  time.Second,
			WriteTimeout: time.Second,
			MaxRetries:   -1,
		})
		defer cc.Close()
		// Keys {a}..{z} hash to slots on all three masters.
		for r := 'a'; r <= 'z'; r++ {
			if err := setGetDel(ctx, cc, "{"+string(r)+"}redistest:ready"); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

// Sentinel is one master, one replica and one sentinel watching the master
// under MasterName.
type Sentinel struct {
	MasterName    string // "gatehouse"
	MasterAddr    string
	ReplicaAddr   string
	SentinelAddrs []string // one address

	master, replica, sentinel *Server
}

// StartSentinel starts a master, its replica and a sentinel, and returns once
// a failover client finds the master through the sentinel and can write to
// it; all three are killed when t ends.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	Require(t)
	const name = "gatehouse"

	mdir := t.TempDir()
	master := launch(t, mdir, false, func(port int) []string {
		// The default 5 s wait before a diskless full sync would
		// dominate the setup time.
		return append(baseArgs(mdir, port), "--repl-diskless-sync-delay", "0")
	})
	rdir := t.TempDir()
	replica := launch(t, rdir, false, func(port int) []string {
		return append(baseArgs(rdir, port), "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	})
	waitFor(t, "replica link", []*Server{master, replica}, func(ctx context.Context) error {
		rc := redis.NewClient(pollOptions(replica.Addr))
		defer rc.Close()
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "master_link_status:up") {
			return errors.New("replica: master_link_status not up")
		}
		return nil
	})

	// The sentinel rewrites its config file to record what it learns, so
	// it needs one of its own in a writable directory.
	sdir := t.TempDir()
	conf := filepath.Join(sdir, "sentinel.conf")
	confText := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\n"+
		// Short, so that tests which kill the master see a failover
		// within seconds.
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 5000\n", name, master.port)
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	sent := launch(t, sdir, false, func(port int) []string {
		return append([]string{conf, "--sentinel"}, baseArgs(sdir, port)...)
	})

	st := &Sentinel{
		MasterName:    name,
		MasterAddr:    master.Addr,
		ReplicaAddr:   replica.Addr,
		SentinelAddrs: []string{sent.Addr},
		master:        master,
		replica:       replica,
		sentinel:      sent,
	}
	all := []*Server{master, replica, sent}
	waitFor(t, "sentinel", all, func(ctx context.Context) error {
		sc := redis.NewSentinelClient(pollOptions(sent.Addr))
		defer sc.Close()
		addr, err := sc.GetMasterAddrByName(ctx, name).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL get-master-addr-by-name: %w", err)
		}
		if len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != master.Addr {
			return fmt.Errorf("sentinel reports master %v, want %s", addr, master.Addr)
		}
		// Without the replica known, a test that kills the master would
		// wait for a failover that cannot happen.
		reps, err := sc.Replicas(ctx, name).Result()
		if err != nil {
			return fmt.Errorf("SENTINEL replicas: %w", err)
		}
		if len(reps) != 1 || reps[0]["flags"] != "slave" ||
			net.JoinHostPort(reps[0]["ip"], reps[0]["port"]) != replica.Addr {
			return fmt.Errorf("sentinel reports replicas %v, want one healthy at %s", reps, replica.Addr)
		}
		fc := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    name,
			SentinelAddrs: st.SentinelAddrs,
			DialTimeout:   time.Second,
			ReadTimeout:   time.Second,
			WriteTimeout:  time.Second,
			MaxRetries:    -1,
		})
		defer fc.Close()
		return setGetDel(ctx, fc, "redistest:ready")
	})
	return st
}

// baseArgs are the flags every server gets: loopback only, nothing on disk,
// and no protected mode, which would refuse clients of a server without a
// password.
func baseArgs(dir string, port int) []string {
	return []string{
		"--bind", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--protected-mode", "no",
	}
}

// launch starts a new server in dir, retrying on another port when the
// chosen one was taken between picking it and the server binding it.
func launch(t testing.TB, dir string, clusterBus bool, args func(port int) []string) *Server {
	t.Helper()
	s := &Server{t: t, dir: dir, args: args}
	t.Cleanup(s.Kill) // registered after t.TempDir, so it runs before dir removal
	var err error
	for range 5 {
		s.port = freePort(t, clusterBus)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
		if err = s.start(); !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	return s
}

var errPortTaken = errors.New("port already in use")

// start runs redis-server on s.port and returns once it answers PING; on
// failure nothing is left running.
func (s *Server) start() error {
	logPath := filepath.Join(s.dir, "redis.log")
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close() // the child has its own descriptor
	fi, err := log.Stat()
	if err != nil {
		return err
	}
	from := fi.Size() // this start's output only, for errors

	cmd := exec.Command("redis-server", s.args(s.port)...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = log, log
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()

	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-done:
			out := readLog(logPath, from)
			if bytes.Contains(out, []byte("Address already in use")) {
				return fmt.Errorf("%s: %w\n%s", s.Addr, errPortTaken, out)
			}
			return fmt.Errorf("%s: redis-server exited (%v) before answering PING\n%s", s.Addr, cmd.ProcessState, out)
		default:
		}
		err := ping(s.Addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			s.Kill()
			return fmt.Errorf("%s: no PONG after %v: %v\n%s", s.Addr, readyTimeout, err, readLog(logPath, from))
		}
		time.Sleep(pollEvery)
	}
}

// ping is a bare RESP exchange rather than a go-redis client, so that the
// refused connections of a server still starting do not end up in logs.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
	}
	return nil
}

// freePort asks the kernel for a free loopback port. A cluster node also
// listens on port+10000 for its bus, so that one must be free and in range.
func freePort(t testing.TB, clusterBus bool) int {
	t.Helper()
	for range 100 {
		port, err := listenFree(0)
		if err != nil {
			t.Fatalf("redistest: free port: %v", err)
		}
		if !clusterBus {
			return port
		}
		if port > 55000 {
			continue
		}
		if _, err := listenFree(port + 10000); err == nil {
			return port
		}
	}
	t.Fatalf("redistest: no free port pair (port, port+10000) for a cluster node")
	return 0
}

func listenFree(port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// pollOptions keep each readiness probe short and single-shot: waitFor does
// the retrying, with a deadline.
func pollOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:         addr,
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		MaxRetries:   -1,
		PoolSize:     1,
	}
}

// setGetDel proves a client can write and read, and leaves no key behind for
// tests that count keys.
func setGetDel(ctx context.Context, c redis.Cmdable, key string) error {
	if err := c.Set(ctx, key, "ok", 0).Err(); err != nil {
		return fmt.Errorf("SET %s: %w", key, err)
	}
	got, err := c.Get(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("GET %s: %w", key, err)
	}
	if got != "ok" {
		return fmt.Errorf("GET %s = %q, want ok", key, got)
	}
	if err := c.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("DEL %s: %w", key, err)
	}
	return nil
}

// waitFor polls ready until it succeeds or readyTimeout passes, then fails t
// with the last error and the servers' logs.
func waitFor(t testing.TB, what string, servers []*Server, ready func(context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := ready(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: %s not ready after %v: %v%s", what, readyTimeout, err, logTails(servers))
		}
		time.Sleep(pollEvery)
	}
}

func logTails(servers []*Server) string {
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "\n--- %s log ---\n%s", s.Addr, readLog(filepath.Join(s.dir, "redis.log"), 0))
	}
	return b.String()
}

// readLog returns the log from offset from, cut to its last few KB: the
// cause of a failed start is at the end.
func readLog(path string, from int64) []byte {
	const max = 4 << 10
	b, err := os.ReadFile(path)
	if err != nil {
		return []byte(err.Error())
	}
	if from > int64(len(b)) {
		from = 0
	}
	b = b[from:]
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return b
}
