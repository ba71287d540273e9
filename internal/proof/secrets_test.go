package proof

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// spy is a store that writes down everything it is handed.
type spy struct {
	store.Store
	mu      sync.Mutex
	log     strings.Builder
	lastPut store.ID
}

func (s *spy) note(args ...any) {
	s.mu.Lock()
	fmt.Fprintln(&s.log, args...)
	s.mu.Unlock()
}

func (s *spy) Put(ctx context.Context, id store.ID, r store.Record) error {
	s.note(id.Tag, string(id.Hash[:]), r)
	s.mu.Lock()
	s.lastPut = id
	s.mu.Unlock()
	return s.Store.Put(ctx, id, r)
}

func (s *spy) Get(ctx context.Context, id store.ID) (store.Record, bool, error) {
	s.note(id.Tag, string(id.Hash[:]))
	return s.Store.Get(ctx, id)
}

func (s *spy) Hit(ctx context.Context, key string, w time.Duration) (store.Count, error) {
	s.note(key)
	return s.Store.Hit(ctx, key, w)
}

// TestRow12NoRawTokenStored issues 1000 tokens of every kind on every store
// and validates each: the store is handed the token's SHA-256 and no piece
// of its secret (any 16 characters of it); on Redis a dump of every key and
// value has none either.
func TestRow12NoRawTokenStored(t *testing.T) {
	kinds := []store.Kind{store.KindSession, store.KindLogin, store.KindDevice, store.KindVerification, store.KindReset}
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			sp := &spy{Store: sf.Open(t, time.Now)}
			tm, err := tokens.New(tokens.Config{Store: sp, TagKey: testfix.TagKey})
			if err != nil {
				t.Fatal(err)
			}
			secrets := map[string]bool{}
			for i := range 1000 {
				for _, k := range kinds {
					iss, err := tm.Issue(ctx, k, tokens.Claims{Subject: fmt.Sprint("user", i%50), Project: "p", Device: fmt.Sprint("d", i)})
					if err != nil {
						t.Fatal(err)
					}
					// The store is handed the SHA-256 of the token, and
					// that is all it learns of it.
					if sp.lastPut.Hash != sha256.Sum256([]byte(iss.Token)) {
						t.Fatalf("%v token stored under %x, not its SHA-256", k, sp.lastPut.Hash)
					}
					if _, err := tm.Validate(ctx, k, iss.Token); err != nil {
						t.Fatal(err)
					}
					secret := iss.Token[len(iss.Token)-43:]
					for i := 0; i+16 <= len(secret); i++ {
						secrets[secret[i:i+16]] = true // any 16 characters of it give it away
					}
				}
			}
			if len(secrets) < 5000*28*99/100 {
				t.Fatalf("%d distinct pieces of secrets, want about %d", len(secrets), 5000*28)
			}
			if s := findAny(sp.log.String(), secrets); s != "" {
				t.Fatalf("the secret %q was handed to the store", s)
			}
			if sf.Name != "Memory" {
				if s := findAny(redisDump(t, sf.Name), secrets); s != "" {
					t.Fatalf("the secret %q is in Redis", s)
				}
			}
		})
	}
}

// findAny returns a piece of a secret (all are 16 bytes) that text
// contains, or "".
func findAny(text string, secrets map[string]bool) string {
	for i := 0; i+16 <= len(text); i++ {
		if secrets[text[i:i+16]] {
			return text[i : i+16]
		}
	}
	return ""
}

// redisDump returns every key and value of the shared servers.
func redisDump(t *testing.T, name string) string {
	t.Helper()
	var c goredis.UniversalClient
	var err error
	if name == "RedisCluster" {
		c, err = redis.NewClient(strings.Join(redistest.SharedCluster(t).Addrs, ","))
	} else {
		c, err = redis.NewClient("redis://" + redistest.SharedStandalone(t).Addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var (
		mu sync.Mutex // ForEachMaster runs the masters at once
		b  strings.Builder
	)
	dumpNode := func(ctx context.Context, n *goredis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		keys, err := n.Keys(ctx, "*").Result()
		if err != nil {
			return err
		}
		for _, k := range keys {
			b.WriteString(k)
			v, _ := n.Dump(ctx, k).Result()
			b.WriteString(v)
			switch n.Type(ctx, k).Val() {
			case "string":
				b.WriteString(n.Get(ctx, k).Val())
			case "zset":
				b.WriteString(strings.Join(n.ZRange(ctx, k, 0, -1).Val(), " "))
			case "hash":
				fmt.Fprint(&b, n.HGetAll(ctx, k).Val())
			}
		}
		return nil
	}
	if cc, ok := c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, dumpNode)
	} else {
		err = dumpNode(ctx, c.(*goredis.Client))
	}
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatal("empty dump")
	}
	return b.String()
}
