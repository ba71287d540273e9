package bench

import (
	"context"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	redisstore "github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// liveTokens is how many sessions the memory measurements hold.
const liveTokens = 1_000_000

// BenchmarkMemoryPerToken measures the heap one live session takes in the
// memory store at 1M sessions, issued through tokens.Manager: the heap
// after a full GC, before and after, over the count. With one session per
// subject each token also brings its subject's index entry (the costliest
// case per token); with 2 or 10 per subject that entry is shared. It
// ignores b.N: run it with -benchtime 1x.
func BenchmarkMemoryPerToken(b *testing.B) {
	for _, per := range []int{1, 2, 10} {
		b.Run("tokens-per-subject="+strconv.Itoa(per), func(b *testing.B) {
			b.ReportMetric(bytesPerToken(b, per), "bytes/token")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func bytesPerToken(b *testing.B, perSubject int) float64 {
	ctx := context.Background()
	before := heap()
	st := memory.New(memory.Options{MaxRecords: liveTokens + 1000, SweepInterval: -1})
	defer st.Close()
	m := must(tokens.New(tokens.Config{Store: st, TagKey: tagKey}))
	for i := range liveTokens {
		c := tokens.Claims{Subject: strconv.Itoa(1_000_000 + i/perSubject), Project: "100909072"}
		if _, err := m.Issue(ctx, store.KindSession, c); err != nil {
			b.Fatal(err)
		}
	}
	after := heap()
	if st.Len() != liveTokens {
		b.Fatalf("store holds %d records, want %d", st.Len(), liveTokens)
	}
	runtime.KeepAlive(st)
	return float64(after-before) / liveTokens
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// redisSessions is how many sessions BenchmarkRedisMemory writes; the
// figure is scaled to a million.
const redisSessions = 200_000

// BenchmarkRedisMemory measures Redis's used_memory per live session
// written by gatehouse's Redis store (the token key and the subject's index
// entry), on a standalone server. It ignores b.N: run it with -benchtime 1x.
func BenchmarkRedisMemory(b *testing.B) {
	ctx := context.Background()
	c := newClient(b, nil)
	if err := c.FlushAll(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	st := must(redisstore.New(c, redisstore.Options{}))
	m := must(tokens.New(tokens.Config{Store: st, TagKey: tagKey}))
	used := func() float64 {
		info := c.Info(ctx, "memory").Val()
		for _, line := range strings.Split(info, "\r\n") {
			if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
				n, _ := strconv.ParseFloat(v, 64)
				return n
			}
		}
		b.Fatal("no used_memory in INFO memory")
		return 0
	}
	before := used()
	var wg sync.WaitGroup
	const workers = 16
	for w := range workers {
		wg.Go(func() {
			for i := w; i < redisSessions; i += workers {
				if _, err := m.Issue(ctx, store.KindSession, tokens.Claims{Subject: strconv.Itoa(1_000_000 + i), Project: "100909072"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	perSession := (used() - before) / redisSessions
	if err := c.FlushAll(ctx).Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(perSession, "bytes/session")
	b.ReportMetric(perSession*1e6/(1<<20), "MiB/1M-sessions")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkBcrypt measures one password check at auth's default cost (10),
// the CPU a login takes: 10 checks, reported per check. It ignores b.N:
// run it with -benchtime 1x.
func BenchmarkBcrypt(b *testing.B) {
	hash := must(password.Hash(demoPassword, 10))
	h := password.Bcrypt{Cost: 10}
	const n = 10
	start := time.Now()
	for range n {
		if err := h.Compare(hash, []byte(demoPassword)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/n, "ms/check")
	b.ReportMetric(0, "ns/op")
}
