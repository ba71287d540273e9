package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// assertGoneAtEnd must be called before the servers start: cleanups run last
// registered first, so this check runs after the servers' own cleanups and
// proves that they leave no process behind.
func assertGoneAtEnd(t *testing.T) func(...*Server) {
	t.Helper()
	var servers []*Server
	t.Cleanup(func() {
		for _, s := range servers {
			if pid := s.cmd.Process.Pid; !gone(pid) {
				t.Errorf("redis-server %s (pid %d) still running after cleanup", s.Addr, pid)
			}
		}
	})
	return func(s ...*Server) { servers = append(servers, s...) }
}

func gone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func TestRequireSkipsWithoutRedis(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(requireEnv, "")
	var skipped, reached bool
	t.Run("no redis on PATH", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t)
		reached = true
	})
	if !skipped || reached {
		t.Fatalf("Require without redis on PATH: skipped=%v, returned=%v; want a skip", skipped, reached)
	}
}

func TestStandaloneKillRestart(t *testing.T) {
	t.Parallel()
	track := assertGoneAtEnd(t)
	s := Standalone(t)
	track(s)
	ctx := context.Background()

	rc := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rc.Close()
	if err := rc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}

	pid := s.cmd.Process.Pid
	s.Kill()
	if !gone(pid) {
		t.Fatalf("pid %d still exists after Kill", pid)
	}
	if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Kill", s.Addr)
	}
	s.Kill() // must be harmless

	s.Restart()
	if s.cmd.Process.Pid == pid {
		t.Fatalf("Restart kept pid %d", pid)
	}
	if err := ping(s.Addr); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	// The same client reconnects: the address did not change.
	var err error
	for range 3 { // the first call may hit the connection the kill broke
		if err = rc.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
			continue
		}
		break
	}
	if !errors.Is(err, redis.Nil) {
		t.Fatalf("GET k after Restart: %v, want redis.Nil (fresh data)", err)
	}
	s.Restart() // a running server restarts too
	if err := ping(s.Addr); err != nil {
		t.Fatalf("PING after second Restart: %v", err)
	}
}

func TestCluster(t *testing.T) {
	t.Parallel()
	track := assertGoneAtEnd(t)
	c := StartCluster(t)
	track(c.servers...)
	ctx := context.Background()

	if len(c.Addrs) != 3 {
		t.Fatalf("Addrs = %v, want 3", c.Addrs)
	}
	for _, addr := range c.Addrs {
		rc := redis.NewClient(&redis.Options{Addr: addr})
		info, err := rc.ClusterInfo(ctx).Result()
		rc.Close()
		if err != nil || !strings.Contains(info, "cluster_state:ok") {
			t.Fatalf("%s CLUSTER INFO: %v\n%s", addr, err, info)
		}
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs})
	defer cc.Close()
	const n = 500
	for i := range n {
		key := fmt.Sprintf("key:%d", i)
		if err := cc.Set(ctx, key, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", key, err)
		}
	}
	for i := range n {
		key := fmt.Sprintf("key:%d", i)
		if got, err := cc.Get(ctx, key).Int(); err != nil || got != i {
			t.Fatalf("GET %s = %d, %v; want %d", key, got, err, i)
		}
	}
	// The keys must really be spread, or this would be a standalone test.
	var masters, total atomic.Int64
	err := cc.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
		size, err := m.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if size == 0 {
			return fmt.Errorf("master %s holds no keys", m.Options().Addr)
		}
		masters.Add(1)
		total.Add(size)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if masters.Load() != 3 || total.Load() != n {
		t.Fatalf("%d masters hold %d keys, want 3 and %d", masters.Load(), total.Load(), n)
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	track := assertGoneAtEnd(t)
	st := StartSentinel(t)
	track(st.master, st.replica, st.sentinel)
	ctx := context.Background()

	if st.MasterName != "gatehouse" || len(st.SentinelAddrs) != 1 || st.MasterAddr == st.ReplicaAddr {
		t.Fatalf("unexpected Sentinel %+v", st)
	}
	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    st.MasterName,
		SentinelAddrs: st.SentinelAddrs,
	})
	defer fc.Close()
	if err := fc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET through sentinel: %v", err)
	}
	if got, err := fc.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("GET through sentinel = %q, %v; want v", got, err)
	}

	// The write reaches the replica, so a failover would not lose it.
	rc := redis.NewClient(&redis.Options{Addr: st.ReplicaAddr})
	defer rc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := rc.Get(ctx, "k").Result()
		if err == nil && got == "v" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica GET k = %q, %v; want v", got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tests of the Redis store kill the master to show a failover; the sentinel
// must be set up so that one happens within seconds, with the write kept.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	track := assertGoneAtEnd(t)
	st := StartSentinel(t)
	track(st.master, st.replica, st.sentinel)
	ctx := context.Background()

	fc := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    st.MasterName,
		SentinelAddrs: st.SentinelAddrs,
	})
	defer fc.Close()
	if err := fc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if err := fc.Wait(ctx, 1, time.Second).Err(); err != nil {
		t.Fatalf("WAIT for the replica: %v", err)
	}

	st.master.Kill()
	sc := redis.NewSentinelClient(&redis.Options{Addr: st.SentinelAddrs[0]})
	defer sc.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(ctx, st.MasterName).Result()
		if err == nil && len(addr) == 2 && net.JoinHostPort(addr[0], addr[1]) == st.ReplicaAddr {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel still reports master %v, %v; want the replica %s", addr, err, st.ReplicaAddr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = fc.Get(ctx, "k").Result(); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || got != "v" {
		t.Fatalf("GET after failover = %q, %v; want v", got, err)
	}
	if err := fc.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatalf("SET after failover: %v", err)
	}
}
