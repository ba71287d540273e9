package proof

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/store/storetest"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// crossSlot counts CROSSSLOT errors of every command and pipeline.
type crossSlot struct{ n atomic.Int64 }

func (h *crossSlot) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *crossSlot) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		h.see(cmd)
		return err
	}
}
func (h *crossSlot) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.see(c)
		}
		return err
	}
}
func (h *crossSlot) see(c goredis.Cmder) {
	if err := c.Err(); err != nil && strings.Contains(err.Error(), "CROSSSLOT") {
		h.n.Add(1)
	}
}

// TestRow09ClusterFailover runs on a Cluster of 3 masters with a replica
// each, with the store waiting for one replica on every write that ends a
// token (Options.WaitReplicas). The store suite passes with no CROSSSLOT
// error from any command; a consume that a replica has not acknowledged
// is reported as a failure, never as a success; and a token consumed just
// before its master is killed stays consumed on the promoted replica.
func TestRow09ClusterFailover(t *testing.T) {
	cl := redistest.StartClusterWithReplicas(t)
	hook := &crossSlot{}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cl.Addrs, MaxRedirects: 16})
	defer c.Close()
	c.OnNewNode(func(n *goredis.Client) { n.AddHook(hook) })
	c.AddHook(hook)
	opts := redis.Options{WaitReplicas: 1, WaitTimeout: 300 * time.Millisecond}

	t.Run("Conformance", func(t *testing.T) {
		run := rand.Text()[:6]
		var n atomic.Int64
		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
			o := opts
			o.Prefix, o.Now = fmt.Sprintf("f%s-%d", run, n.Add(1)), now
			s, err := redis.New(c, o)
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})

	st, err := redis.New(c, opts)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	const subject = "1815"
	master, err := c.MasterForKey(ctx, "{"+tm.Tag(subject)+"}")
	if err != nil {
		t.Fatal(err)
	}
	m := cl.Server(master.Options().Addr)
	replica := cl.Server(replicaOf(t, master))
	if m == nil || replica == nil {
		t.Fatalf("master %s or its replica not found", master.Options().Addr)
	}

	t.Run("UnacknowledgedConsumeFails", func(t *testing.T) {
		iss, err := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: subject, Project: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		replica.Pause()
		_, err = tm.Consume(ctx, store.KindLogin, iss.Token)
		replica.Resume()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("consume with the replica stalled: %v, want ErrUnavailable", err)
		}
	})

	t.Run("ConsumedStaysConsumedAfterFailover", func(t *testing.T) {
		waitInSync(t, master)
		iss, err := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: subject, Project: "p1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tm.Consume(ctx, store.KindLogin, iss.Token); err != nil {
			t.Fatal(err)
		}
		m.Kill()
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := tm.Consume(ctx, store.KindLogin, iss.Token)
			if err == nil {
				t.Fatal("a consumed token was redeemed again after the failover")
			}
			if errors.Is(err, tokens.ErrInvalid) {
				break // the promoted replica answers, and the token is gone
			}
			if time.Now().After(deadline) {
				t.Fatalf("no failover after 30 s: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	if n := hook.n.Load(); n != 0 {
		t.Errorf("%d CROSSSLOT errors", n)
	}
}

var replicaLine = regexp.MustCompile(`slave0:ip=([^,]+),port=(\d+),state=online`)

// replicaOf returns the address of master's replica.
func replicaOf(t *testing.T, master *goredis.Client) string {
	t.Helper()
	info, err := master.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := replicaLine.FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no online replica in:\n%s", info)
	}
	return m[1] + ":" + m[2]
}

// waitInSync waits until master sees its replica online again.
func waitInSync(t *testing.T, master *goredis.Client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := master.Info(ctx, "replication").Result()
		if err == nil && replicaLine.MatchString(info) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not back in sync: %v\n%s", err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
