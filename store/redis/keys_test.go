package redis_test

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/redis"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestKeysAreDocumented: every shape of key the store writes is a row of
// the key table in docs/redis.md, and every row there is a key the store
// writes. It does one of each operation that leaves a key (a session, a
// rotated device token, a counter, a rate limit, a login attempt), reads the keys back,
// and writes each as its shape: the prefix as "myapp", the routing tag as
// "{tag}", hashes as <sha256 hex>, <sha1 hex> or <base64url sha256>.
func TestKeysAreDocumented(t *testing.T) {
	srv := redistest.Standalone(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer c.Close()
	st, err := redis.New(c, redis.Options{Prefix: "keysdoc"})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := tm.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"}); err != nil {
		t.Fatal(err)
	}
	dev, err := tm.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Rotate(ctx, dev.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Hit(ctx, "failures:u1", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Take(ctx, "login:192.0.2.1", store.PerPeriod(10, time.Minute), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CountAttempt(ctx, store.Attempt{Group: "s:u1", Name: "n:jill", NameClient: "n:jill|192.0.2.1",
		Account: "s:u1", AccountClient: "s:u1|192.0.2.1", PerClient: 4, Total: 10, Window: time.Minute}); err != nil {
		t.Fatal(err)
	}

	keys, err := c.Keys(ctx, "keysdoc:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	shape := func(key string) string {
		s := "myapp" + strings.TrimPrefix(key, "keysdoc")
		s = regexp.MustCompile(`\{[0-9A-Za-z_-]{43}\}`).ReplaceAllString(s, "{<base64url sha256>}")
		s = regexp.MustCompile(`\{[0-9a-z]+\}`).ReplaceAllString(s, "{tag}")
		s = regexp.MustCompile(`:[0-9a-f]{64}$`).ReplaceAllString(s, ":<sha256 hex>")
		s = regexp.MustCompile(`:[0-9a-f]{40}$`).ReplaceAllString(s, ":<sha1 hex>")
		return regexp.MustCompile(`:[0-9A-Za-z_-]{43}$`).ReplaceAllString(s, ":<base64url sha256>")
	}
	var written []string
	for _, k := range keys {
		if s := shape(k); !slices.Contains(written, s) {
			written = append(written, s)
		}
	}

	doc, err := os.ReadFile("../../docs/redis.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(myapp:[^`]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, m[1])
	}
	if len(documented) == 0 {
		t.Fatal("docs/redis.md has no key table rows (| `myapp:...` | ...)")
	}
	for _, s := range written {
		if !slices.Contains(documented, s) {
			t.Errorf("the store writes keys %s, which docs/redis.md's key table does not list (it lists %v)", s, documented)
		}
	}
	for _, s := range documented {
		if !slices.Contains(written, s) {
			t.Errorf("docs/redis.md lists keys %s, which the store did not write (it wrote %v)", s, written)
		}
	}
}
