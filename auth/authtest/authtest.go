// Package authtest provides what tests of an app built on gatehouse need,
// in the style of net/http/httptest: a [Hasher] fast enough for tests that
// counts what it does, and an [Outbox] that keeps the messages a Mailer is
// given instead of sending them.
package authtest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
)

// FastCost is bcrypt's lowest cost: a hash takes well under a millisecond.
// Never use it outside tests.
const FastCost = 4

// Hasher is bcrypt (set its Cost: FastCost keeps tests fast) counting what
// it does, so that tests can show when a password is, or is not, checked.
// Compares counts every Compare; Unread counts those that bcrypt answered
// at once because it could not read the hash (empty, garbage, another
// scheme): they cost no time, so a path that makes one instead of a real
// comparison is told apart by its speed. With Block set, Compare waits on
// it first, to hold a hashing slot. With Watch set (before the Hasher is
// used), WatchCompares counts the compares against that one hash: checks
// of one account's real password, not of a dummy. It is safe for
// concurrent use.
type Hasher struct {
	password.Bcrypt
	Compares, Hashes atomic.Int64
	Unread           atomic.Int64
	Block            chan struct{}
	Watch            []byte
	WatchCompares    atomic.Int64
}

// NewHasher returns a Hasher at FastCost.
func NewHasher() *Hasher { return &Hasher{Bcrypt: password.Bcrypt{Cost: FastCost}} }

var _ password.Hasher = (*Hasher)(nil)

// Compare counts, waits on Block if set, then compares, counting in Unread
// a hash bcrypt cannot read.
func (h *Hasher) Compare(hash, pw []byte) error {
	h.Compares.Add(1)
	if h.Watch != nil && bytes.Equal(hash, h.Watch) {
		h.WatchCompares.Add(1)
	}
	if h.Block != nil {
		<-h.Block
	}
	err := h.Bcrypt.Compare(hash, pw)
	if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
		h.Unread.Add(1)
	}
	return err
}

// Hash counts, then hashes.
func (h *Hasher) Hash(pw []byte) ([]byte, error) {
	h.Hashes.Add(1)
	return h.Bcrypt.Hash(pw)
}

// Outbox is an auth.Mailer that keeps what it is given, or fails every
// send with Fail when that is set. It is safe for concurrent use.
type Outbox struct {
	Fail error

	mu   sync.Mutex
	msgs []auth.Message
}

var _ auth.Mailer = (*Outbox)(nil)

// Send keeps m, or returns Fail.
func (o *Outbox) Send(_ context.Context, m auth.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Fail != nil {
		return o.Fail
	}
	o.msgs = append(o.msgs, m)
	return nil
}

// Messages returns the messages sent so far, oldest first.
func (o *Outbox) Messages() []auth.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.msgs)
}

// Last returns the newest message, failing t when there is none.
func (o *Outbox) Last(t testing.TB) auth.Message {
	t.Helper()
	msgs := o.Messages()
	if len(msgs) == 0 {
		t.Fatal("authtest: no message sent")
	}
	return msgs[len(msgs)-1]
}
