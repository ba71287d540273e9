package memory_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

func Example() {
	s := memory.New(memory.Options{})
	defer s.Close()
	ctx := context.Background()

	// A store sees only the token's hash and its subject's routing tag.
	id := store.ID{Tag: "u1", Hash: sha256.Sum256([]byte("the token text"))}
	err := s.Put(ctx, id, store.Record{
		Kind:      store.KindSession,
		Subject:   "alice",
		Project:   "blog",
		IssuedAt:  time.Now(),
		ExpiresAt: time.Now().Add(time.Hour),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, ok, err := s.Get(ctx, id)
	fmt.Println(rec.Subject, rec.Project, ok, err)

	n, err := s.DeleteAll(ctx, "u1", "alice", store.Filter{Project: "blog"})
	fmt.Println("logged out of", n, "session(s)", err)
	_, ok, _ = s.Get(ctx, id)
	fmt.Println(ok)
	// Output:
	// alice blog true <nil>
	// logged out of 1 session(s) <nil>
	// false
}
