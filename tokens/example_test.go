package tokens_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// tagKey stands for the app's tokens.Config.TagKey: a secret of at least
// 32 bytes from its configuration, the same on every instance.
var tagKey = []byte("example routing-tag key; load yours from secrets")

// clock is a fake clock for the examples: it reads a fixed instant and
// moves only when told to, so the output never depends on the time of day.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

// A session token from issue to expiry. The manager and its store share
// one clock; a real app leaves both at their default, time.Now.
func Example() {
	ctx := context.Background()
	c := newClock()
	st := memory.New(memory.Options{Now: c.Now})
	defer st.Close()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: tagKey, Now: c.Now, SessionTTL: 8 * time.Hour})
	if err != nil {
		panic(err)
	}

	iss, err := tm.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u-1", Project: "blog"})
	if err != nil {
		panic(err)
	}
	// The token goes to the client; the store keeps only its SHA-256.
	fmt.Println(tokens.KindOf(iss.Token), len(iss.Token), iss.Record.ExpiresAt.Format(time.RFC3339))

	rec, err := tm.Validate(ctx, store.KindSession, iss.Token)
	fmt.Println(rec.Subject, rec.Project, err)

	c.Advance(8 * time.Hour)
	_, err = tm.Validate(ctx, store.KindSession, iss.Token)
	fmt.Println(err)
	// Output:
	// session 52 2026-01-02T11:04:05Z
	// u-1 blog <nil>
	// tokens: invalid or expired token
}

// Garbage and tokens of the wrong kind are refused from their shape alone,
// before any store I/O.
func ExampleManager_Validate() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})

	login, _ := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u-1"})
	for _, tok := range []string{"", "not-a-token", login.Token} {
		_, err := tm.Validate(ctx, store.KindSession, tok)
		fmt.Println(err)
	}
	// Output:
	// tokens: no token
	// tokens: malformed token
	// tokens: token of the wrong kind
}

// A one-time login token is good for one Consume: the second finds nothing.
func ExampleManager_Consume() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})

	iss, _ := tm.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "u-1", Project: "blog"})
	rec, err := tm.Consume(ctx, store.KindLogin, iss.Token)
	fmt.Println(rec.Subject, rec.Project, err)
	_, err = tm.Consume(ctx, store.KindLogin, iss.Token)
	fmt.Println(errors.Is(err, tokens.ErrInvalid))
	// Output:
	// u-1 blog <nil>
	// true
}

// A device token is rotated on every use. Its successor keeps the chain's
// absolute end; replaying the spent token revokes the whole chain.
func ExampleManager_Rotate() {
	ctx := context.Background()
	c := newClock()
	st := memory.New(memory.Options{Now: c.Now})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey, Now: c.Now, DeviceTTL: 7 * 24 * time.Hour, DeviceChainTTL: 30 * 24 * time.Hour})

	first, _ := tm.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u-1", Device: "phone"})
	fmt.Println("chain ends", first.Record.ChainEnd.Format(time.DateOnly))

	c.Advance(24 * time.Hour)
	second, err := tm.Rotate(ctx, first.Token)
	fmt.Println(err, second.Token != first.Token, second.Record.ExpiresAt.Format(time.DateOnly))

	// Someone replays the spent token: the chain is revoked, and the
	// successor is refused too.
	_, err = tm.Rotate(ctx, first.Token)
	fmt.Println(err)
	_, err = tm.Rotate(ctx, second.Token)
	fmt.Println(err)
	// Output:
	// chain ends 2026-02-01
	// <nil> true 2026-01-10
	// tokens: reused token; its chain is revoked
	// tokens: invalid or expired token
}

// Logging a user out everywhere ends every session it holds, in every
// project; a filter narrows it to one project or one kind.
func ExampleManager_RevokeAll() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})

	for _, project := range []string{"blog", "blog", "shop"} {
		tm.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u-1", Project: project})
	}
	n, err := tm.RevokeAll(ctx, "u-1", store.Filter{Kind: store.KindSession, Project: "blog"})
	fmt.Println(n, err)
	left, _ := tm.List(ctx, "u-1", store.Filter{})
	fmt.Println(len(left), left[0].Record.Project)
	// Output:
	// 2 <nil>
	// 1 shop
}

func ExampleKindOf() {
	fmt.Println(tokens.KindOf("ghs_k3p7_ZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ0"))
	fmt.Println(tokens.KindOf("ghd_k3p7_ZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ0"))
	fmt.Println(tokens.KindOf("password123"))
	// Output:
	// session
	// device
	// unknown
}

func ExampleFromAuthorization() {
	fmt.Printf("%q\n", tokens.FromAuthorization("Bearer ghs_k3p7_ZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ0"))
	fmt.Printf("%q\n", tokens.FromAuthorization("Basic YWxhZGRpbjpvcGVuc2VzYW1l"))
	// Output:
	// "ghs_k3p7_ZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ1hZJ0"
	// ""
}
