package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/store/storetest"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// conformance runs the store suite on c, each subtest under a prefix of
// its own, then checks that the suite left no key without a TTL.
func conformance(t *testing.T, c goredis.UniversalClient, opts ...redis.Options) {
	run := rand.Text()[:8]
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		var o redis.Options
		if len(opts) > 0 {
			o = opts[0]
		}
		o.Prefix, o.Now = fmt.Sprintf("gh%s-%d", run, n.Add(1)), now
		s, err := redis.New(c, o)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	if n.Load() == 0 {
		t.Fatal("the suite made no store")
	}
	noEternalKeys(t, c)
}

// noEternalKeys scans every master for keys without a TTL.
func noEternalKeys(t *testing.T, c goredis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	scan := func(ctx context.Context, node *goredis.Client) error {
		var seen int
		iter := node.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			seen++
			ttl, err := node.PTTL(ctx, iter.Val()).Result()
			if err != nil {
				return err
			}
			if ttl == -1 {
				t.Errorf("key %q has no TTL", iter.Val())
			}
		}
		t.Logf("%s: %d keys, all with a TTL", node.Options().Addr, seen)
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, scan)
	} else {
		err = scan(ctx, c.(*goredis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
}

func client(t testing.TB, c goredis.UniversalClient) goredis.UniversalClient {
	t.Cleanup(func() { c.Close() })
	return c
}

// The three topologies run the suite on clients made by NewClient, so its
// address forms are proven against real servers too.

func TestRedisStandalone(t *testing.T) {
	srv := redistest.Standalone(t)
	conformance(t, newClient(t, "redis://"+srv.Addr))
}

func TestRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	conformance(t, newClient(t, strings.Join(cl.Addrs, ",")))
}

func TestRedisSentinel(t *testing.T) {
	s := redistest.StartSentinel(t)
	c := newClient(t, "sentinel://"+s.MasterName+"@"+strings.Join(s.SentinelAddrs, ","))
	conformance(t, c)
	// The same, with every write that ends a token waiting for the
	// replica (WAIT in the same round trip).
	t.Run("WaitReplicas", func(t *testing.T) { conformance(t, c, redis.Options{WaitReplicas: 1, WaitTimeout: time.Second}) })
}

func newClient(t testing.TB, spec string) goredis.UniversalClient {
	t.Helper()
	c, err := redis.NewClient(spec)
	if err != nil {
		t.Fatal(err)
	}
	return client(t, c)
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := redis.New(nil, redis.Options{}); err == nil {
		t.Error("New accepted a nil client")
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for _, p := range []string{"a{b", "}", "{x}"} {
		if _, err := redis.New(c, redis.Options{Prefix: p}); err == nil {
			t.Errorf("New accepted prefix %q, which Cluster would read as a hash tag", p)
		}
	}
}

func managerOn(t testing.TB, c goredis.UniversalClient) *tokens.Manager {
	t.Helper()
	s, err := redis.New(c, redis.Options{Prefix: "gh" + rand.Text()[:8]})
	if err != nil {
		t.Fatal(err)
	}
	m, err := tokens.New(tokens.Config{Store: s, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestValidateIsOneCommand proves the hot path: validating a token is one
// round trip of one command, and input that cannot be a token costs none.
func TestValidateIsOneCommand(t *testing.T) {
	for name, c := range topologies(t) {
		t.Run(name, func(t *testing.T) {
			cnt := &redistest.Commands{}
			c.AddHook(cnt)
			m := managerOn(t, c)
			ctx := context.Background()
			iss, err := m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "341", Project: "p"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Validate(ctx, store.KindSession, iss.Token); err != nil {
				t.Fatal(err) // warms the cluster's slot map and the pool
			}
			cnt.N.Store(0)
			if _, err := m.Validate(ctx, store.KindSession, iss.Token); err != nil {
				t.Fatal(err)
			}
			if n := cnt.N.Load(); n != 1 {
				t.Errorf("Validate of a live token sent %d commands, want 1", n)
			}
			cnt.N.Store(0)
			bad := []string{
				"", "garbage", strings.Repeat("x", 10000), iss.Token + "x", iss.Token[:len(iss.Token)-1],
				"ghd" + iss.Token[3:], // the right secret as another kind
				strings.Replace(iss.Token, "_", "{", 1),
			}
			for _, tok := range bad {
				if _, err := m.Validate(ctx, store.KindSession, tok); err == nil {
					t.Errorf("Validate(%.20q) passed", tok)
				}
			}
			if n := cnt.N.Load(); n != 0 {
				t.Errorf("rejecting %d malformed tokens sent %d commands, want 0", len(bad), n)
			}
		})
	}
}

// topologies starts a standalone server and a Cluster and returns a client
// of each.
func topologies(t *testing.T) map[string]goredis.UniversalClient {
	srv := redistest.Standalone(t)
	cl := redistest.StartCluster(t)
	return map[string]goredis.UniversalClient{
		"Standalone": client(t, goredis.NewClient(&goredis.Options{Addr: srv.Addr})),
		"Cluster":    client(t, goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cl.Addrs})),
	}
}

// TestOnlyHashesAreStored issues one token of each kind and looks for the
// token, or its secret part, anywhere in Redis: keys and values.
func TestOnlyHashesAreStored(t *testing.T) {
	srv := redistest.Standalone(t)
	c := client(t, goredis.NewClient(&goredis.Options{Addr: srv.Addr}))
	m := managerOn(t, c)
	ctx := context.Background()
	var secrets []string
	for _, k := range []store.Kind{store.KindSession, store.KindLogin, store.KindDevice, store.KindVerification, store.KindReset} {
		iss, err := m.Issue(ctx, k, tokens.Claims{Subject: "341", Project: "p", Device: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, iss.Token[len(iss.Token)-43:])
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		dump := k
		if typ := c.Type(ctx, k).Val(); typ == "string" {
			dump += c.Get(ctx, k).Val()
		} else {
			dump += strings.Join(c.ZRange(ctx, k, 0, -1).Val(), " ")
		}
		for _, s := range secrets {
			if strings.Contains(dump, s) {
				t.Errorf("key %q holds a token's secret", k)
			}
		}
	}
}

// TestFailClosedAndRecover kills the server under a guarded route: every
// request in the outage is 503 (never let through), and once Redis is back
// a new login works without restarting anything.
func TestFailClosedAndRecover(t *testing.T) {
	srv := redistest.Standalone(t)
	c := client(t, goredis.NewClient(&goredis.Options{
		Addr: srv.Addr, DialTimeout: 200 * time.Millisecond, ReadTimeout: 200 * time.Millisecond, MaxRetries: -1, DialerRetries: 1,
	}))
	m := managerOn(t, c)
	g, err := middleware.NewGuard(middleware.GuardConfig{Tokens: m})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(g.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := middleware.FromContext(r.Context())
		fmt.Fprint(w, "hello ", p.Subject)
	})))
	defer ts.Close()
	ctx := context.Background()
	login := func() string {
		t.Helper()
		iss, err := m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "341"})
		if err != nil {
			t.Fatalf("issue: %v", err)
		}
		return iss.Token
	}
	get := func(tok string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}

	tok := login()
	if code, body := get(tok); code != 200 || body != "hello 341" {
		t.Fatalf("before the outage: %d %q", code, body)
	}
	srv.Kill()
	for range 5 {
		code, body := get(tok)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"store_unavailable"`) {
			t.Fatalf("during the outage: %d %q, want 503 store_unavailable", code, body)
		}
	}
	if _, err := m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "341"}); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("issue during the outage: %v, want ErrUnavailable", err)
	}
	srv.Restart()
	// The restarted server is empty: the old session is gone (401, not
	// 503), and a new login works on the same client and guard.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ := get(tok)
		if code == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart the old token still answers %d, want 401", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, body := get(login()); code != 200 || body != "hello 341" {
		t.Fatalf("after the restart: %d %q", code, body)
	}
}

// TestErrorsWrapUnavailable: a server that is not there is ErrUnavailable
// from every method, and never a hit.
func TestErrorsWrapUnavailable(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	s, err := redis.New(c, redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	id := store.ID{Tag: "t0"}
	rec := store.Record{Kind: store.KindSession, Subject: "u", ExpiresAt: time.Now().Add(time.Hour)}
	check := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", op, err)
		}
	}
	check("Put", s.Put(ctx, id, rec))
	_, ok, err := s.Get(ctx, id)
	check("Get", err)
	_, ok2, err := s.Consume(ctx, id)
	check("Consume", err)
	if ok || ok2 {
		t.Error("a hit from a server that is down")
	}
	_, err = s.Rotate(ctx, id, store.ID{Tag: "t0", Hash: [32]byte{1}}, time.Hour)
	check("Rotate", err)
	_, err = s.Delete(ctx, id)
	check("Delete", err)
	_, err = s.DeleteAll(ctx, "t0", "u", store.Filter{})
	check("DeleteAll", err)
	_, err = s.List(ctx, "t0", "u", store.Filter{})
	check("List", err)
	_, err = s.Hit(ctx, "k", time.Minute)
	check("Hit", err)
	_, err = s.Peek(ctx, "k")
	check("Peek", err)
	check("Reset", s.Reset(ctx, "k"))
}

// TestTTLsFollowTheStoresClock: a store whose clock is far from Redis's (a
// skewed app server, a test's fake clock) still keeps each key exactly as
// long as its record lives by that clock.
func TestTTLsFollowTheStoresClock(t *testing.T) {
	srv := redistest.Standalone(t)
	c := client(t, goredis.NewClient(&goredis.Options{Addr: srv.Addr}))
	ctx := context.Background()
	for _, skew := range []time.Duration{-5 * 365 * 24 * time.Hour, 5 * 365 * 24 * time.Hour} {
		now := time.Now().Add(skew).Truncate(time.Millisecond)
		s, err := redis.New(c, redis.Options{Prefix: "skew" + rand.Text()[:6], Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		id := store.ID{Tag: "t0", Hash: [32]byte{byte(skew >> 40)}}
		rec := store.Record{Kind: store.KindSession, Subject: "u", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.Put(ctx, id, rec); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := s.Get(ctx, id); !ok || err != nil {
			t.Fatalf("skew %v: Get = %v, %v", skew, ok, err)
		}
		if _, err := s.Hit(ctx, "k", time.Minute); err != nil {
			t.Fatal(err)
		}
		keys, _ := c.Keys(ctx, "skew*").Result()
		for _, k := range keys {
			ttl := c.PTTL(ctx, k).Val()
			if ttl <= 0 || ttl > time.Hour {
				t.Errorf("skew %v: key %q has TTL %v, want (0, 1h]", skew, k, ttl)
			}
		}
		c.Del(ctx, keys...)
	}
}

// TestRotateRetryIsNotReuse: go-redis resends a command whose reply was
// lost; the same Rotate arriving twice gets its successor back, while a
// replay with another successor is reuse and revokes the family.
func TestRotateRetryIsNotReuse(t *testing.T) {
	srv := redistest.Standalone(t)
	c := client(t, goredis.NewClient(&goredis.Options{Addr: srv.Addr}))
	s, err := redis.New(c, redis.Options{Prefix: "retry"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	id := func(b byte) store.ID { return store.ID{Tag: "t0", Hash: [32]byte{b}} }
	rec := store.Record{Kind: store.KindDevice, Subject: "u", Device: "phone", Family: "f1",
		IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Put(ctx, id(1), rec); err != nil {
		t.Fatal(err)
	}
	first, err := s.Rotate(ctx, id(1), id(2), time.Hour)
	if err != nil || first.Status != store.RotateDone {
		t.Fatalf("rotate: %v %v", first.Status, err)
	}
	again, err := s.Rotate(ctx, id(1), id(2), time.Hour)
	if err != nil || again.Status != store.RotateDone || again.Record != first.Record {
		t.Fatalf("the same rotation again: %v %+v %v; want its successor back", again.Status, again.Record, err)
	}
	if _, ok, _ := s.Get(ctx, id(2)); !ok {
		t.Fatal("the successor was revoked by a resent rotation")
	}
	replay, err := s.Rotate(ctx, id(1), id(3), time.Hour)
	if err != nil || replay.Status != store.RotateReused || replay.Revoked != 1 {
		t.Fatalf("a replay: %v revoked %d %v; want reuse revoking the successor", replay.Status, replay.Revoked, err)
	}
	if _, ok, _ := s.Get(ctx, id(2)); ok {
		t.Fatal("the successor outlived a replay")
	}
	// Once the family is revoked, resending the first rotation is reuse too.
	if rot, _ := s.Rotate(ctx, id(1), id(2), time.Hour); rot.Status != store.RotateReused {
		t.Fatalf("resent after revocation: %v, want reuse", rot.Status)
	}
}

func TestWaitReplicasNeedsAddressableClient(t *testing.T) {
	ring := goredis.NewRing(&goredis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	defer ring.Close()
	if _, err := redis.New(ring, redis.Options{WaitReplicas: 1}); err == nil {
		t.Error("WaitReplicas accepted a Ring, where WAIT may reach another shard")
	}
	if _, err := redis.New(ring, redis.Options{}); err != nil {
		t.Errorf("a Ring without WaitReplicas: %v", err)
	}
}
