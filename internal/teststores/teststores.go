// Package teststores gives end-to-end tests the stores they must pass on:
// memory, Redis standalone and Redis Cluster. The Redis ones share one set
// of servers per test binary (see redistest.Main) and give every test a key
// prefix of its own, so a test sees an empty store.
package teststores

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// Store opens a fresh, empty store on the clock now, closed when t ends.
type Store struct {
	Name string
	Open func(t *testing.T, now func() time.Time) store.Store
	// OpenCounted is Open that also returns the counter of the commands
	// the store sends to Redis (redistest.Commands), nil for memory.
	OpenCounted func(t *testing.T, now func() time.Time) (store.Store, *redistest.Commands)
}

// All is memory, Redis standalone and Redis Cluster. A test package using
// it calls redistest.Main from its TestMain; without redis-server the Redis
// ones skip (or fail under GATEHOUSE_REQUIRE_REDIS=1).
func All() []Store {
	all := []Store{
		{Name: "Memory", OpenCounted: func(t *testing.T, now func() time.Time) (store.Store, *redistest.Commands) {
			st := memory.New(memory.Options{Now: now})
			t.Cleanup(func() { st.Close() })
			return st, nil
		}},
		{Name: "Redis", OpenCounted: func(t *testing.T, now func() time.Time) (store.Store, *redistest.Commands) {
			return openRedis(t, "redis://"+redistest.SharedStandalone(t).Addr, now)
		}},
		{Name: "RedisCluster", OpenCounted: func(t *testing.T, now func() time.Time) (store.Store, *redistest.Commands) {
			return openRedis(t, strings.Join(redistest.SharedCluster(t).Addrs, ","), now)
		}},
	}
	for i := range all {
		counted := all[i].OpenCounted
		all[i].Open = func(t *testing.T, now func() time.Time) store.Store {
			st, _ := counted(t, now)
			return st
		}
	}
	return all
}

func openRedis(t *testing.T, spec string, now func() time.Time) (store.Store, *redistest.Commands) {
	t.Helper()
	c, err := redis.NewClient(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cmds := new(redistest.Commands)
	c.AddHook(cmds)
	st, err := redis.New(c, redis.Options{Prefix: "t" + strings.ToLower(rand.Text()[:10]), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return st, cmds
}
