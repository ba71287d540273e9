// Package redisproc starts throwaway redis-server processes for the
// benchmarks: one standalone server, or a Redis Cluster of three masters.
// Each server listens on a free loopback port, keeps nothing on disk, and
// lives in its own temporary directory; Stop kills it and removes the
// directory. On Linux the kernel also kills a server whose parent dies.
package redisproc

import (
	"bufio"
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
	"time"

	"github.com/redis/go-redis/v9"
)

const readyTimeout = 20 * time.Second

// Server is one redis-server process.
type Server struct {
	Addr string

	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts a standalone server.
func Start() (*Server, error) { return start(false) }

func start(cluster bool) (*Server, error) {
	var last error
	for range 5 { // a port picked free may be taken before the server binds it
		port, err := freePort(cluster)
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "gatehouse-bench-redis-")
		if err != nil {
			return nil, err
		}
		args := []string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--save", "", "--appendonly", "no", "--protected-mode", "no",
		}
		if cluster {
			args = append(args, "--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-node-timeout", "2000")
		}
		s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir}
		if last = s.run(args); last == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, last
}

func (s *Server) run(args []string) error {
	log, err := os.Create(filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = exec.Command("redis-server", args...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = log, log
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		s.cmd = nil
		return fmt.Errorf("redisproc: %w (is redis-server installed? `make deps` installs it)", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redisproc: redis-server on %s exited early:\n%s", s.Addr, out)
		default:
		}
		if ping(s.Addr) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redisproc: redis-server on %s: no PONG after %v", s.Addr, readyTimeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Stop kills the server and removes its directory. Safe on a nil Server
// and safe to call twice.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
		s.cmd = nil
	}
	_ = os.RemoveAll(s.dir)
}

// Cluster is three masters without replicas.
type Cluster struct {
	Addrs   []string
	servers []*Server
}

// StartCluster starts three cluster-enabled servers, joins them with
// `redis-cli --cluster create`, and returns once every node reports the
// cluster ok.
func StartCluster() (*Cluster, error) {
	c := &Cluster{}
	for range 3 {
		s, err := start(true)
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.servers = append(c.servers, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redisproc: redis-cli --cluster create: %v\n%s", err, out)
	}
	for {
		err := c.ready(ctx)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			c.Stop()
			return nil, fmt.Errorf("redisproc: cluster not ready: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) ready(ctx context.Context) error {
	for _, addr := range c.Addrs {
		rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1})
		info, err := rc.ClusterInfo(ctx).Result()
		rc.Close()
		if err != nil {
			return err
		}
		for _, want := range []string{"cluster_state:ok", "cluster_known_nodes:3", "cluster_slots_ok:16384"} {
			if !strings.Contains(info, want) {
				return fmt.Errorf("%s: CLUSTER INFO lacks %s", addr, want)
			}
		}
	}
	return nil
}

// Stop kills every node. Safe on a nil Cluster.
func (c *Cluster) Stop() {
	if c == nil {
		return
	}
	for _, s := range c.servers {
		s.Stop()
	}
}

func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "PING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return errors.New("PING answered " + strings.TrimSpace(line))
	}
	return nil
}

// freePort asks the kernel for a free loopback port; a cluster node also
// needs port+10000 free for its bus.
func freePort(cluster bool) (int, error) {
	for range 100 {
		port, err := listenFree(0)
		if err != nil {
			return 0, err
		}
		if !cluster {
			return port, nil
		}
		if port > 55000 {
			continue
		}
		if _, err := listenFree(port + 10000); err == nil {
			return port, nil
		}
	}
	return 0, errors.New("redisproc: no free port pair for a cluster node")
}

func listenFree(port int) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
