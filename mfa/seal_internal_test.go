package mfa

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/gatehouse-go/gatehouse/store/memory"
)

func testRing(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewKeyring(SealingKey{ID: "2026-01", Secret: bytes.Repeat([]byte{7}, 32)}, SealingKey{ID: "2025-06", Secret: bytes.Repeat([]byte{6}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSealTamper: every single-byte change of a sealed blob, a truncation,
// another subject, or a key the ring lacks makes Open fail with
// ErrUnsealed.
func TestSealTamper(t *testing.T) {
	ring := testRing(t)
	blob, err := ring.Seal("s:1", []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := ring.Open("s:1", blob); err != nil || string(plain) != `{"v":1}` {
		t.Fatalf("Open: %q, %v", plain, err)
	}
	for i := range blob {
		bad := bytes.Clone(blob)
		bad[i] ^= 0x20
		if _, err := ring.Open("s:1", bad); !errors.Is(err, ErrUnsealed) {
			t.Fatalf("byte %d changed: %v", i, err)
		}
	}
	for n := range len(blob) {
		if _, err := ring.Open("s:1", blob[:n]); !errors.Is(err, ErrUnsealed) {
			t.Fatalf("cut to %d bytes: %v", n, err)
		}
	}
	if _, err := ring.Open("s:2", blob); !errors.Is(err, ErrUnsealed) {
		t.Fatalf("another subject: %v", err)
	}
	if _, err := ring.Open("s:1"+"\x00", blob); !errors.Is(err, ErrUnsealed) {
		t.Fatalf("a subject one byte longer: %v", err)
	}
	other, _ := NewKeyring(SealingKey{ID: "2024-01", Secret: bytes.Repeat([]byte{7}, 32)})
	if _, err := other.Open("s:1", blob); !errors.Is(err, ErrUnsealed) || !strings.Contains(err.Error(), `"2026-01"`) {
		t.Fatalf("a ring without the key: %v", err)
	}
	if a, b := mustSeal(t, ring), mustSeal(t, ring); bytes.Equal(a, b) {
		t.Fatal("two seals of one plaintext are equal: a nonce repeated, and CompareAndSwap could not tell versions apart")
	}
	if _, err := ring.seal(iotest.ErrReader(io.ErrUnexpectedEOF), "s:1", nil); err == nil {
		t.Fatal("a failing nonce reader sealed")
	}
}

func mustSeal(t testing.TB, ring *Keyring) []byte {
	b, err := ring.Seal("s:1", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewKeyring(t *testing.T) {
	good := SealingKey{ID: "a", Secret: make([]byte, 32)}
	for _, tc := range []struct {
		name string
		keys []SealingKey
	}{
		{"16-byte key", []SealingKey{{ID: "a", Secret: make([]byte, 16)}}},
		{"no secret", []SealingKey{{ID: "a"}}},
		{"empty ID", []SealingKey{{Secret: make([]byte, 32)}}},
		{"ID with a space", []SealingKey{{ID: "a b", Secret: make([]byte, 32)}}},
		{"ID of 33", []SealingKey{{ID: strings.Repeat("a", 33), Secret: make([]byte, 32)}}},
		{"ID twice", []SealingKey{good, good}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewKeyring(tc.keys[0], tc.keys[1:]...); err == nil {
				t.Fatal("NewKeyring accepted it")
			}
		})
	}
}

// TestEnrollShortRead: with a random source that runs short, Enroll fails
// and stores nothing (the short-read row of docs/mfa.md, end to end).
func TestEnrollShortRead(t *testing.T) {
	st := memory.New(memory.Options{})
	defer st.Close()
	f := new(MemoryFactors)
	m, err := New(Config{Store: st, Factors: f, Keyring: testRing(t), Issuer: "Gatehouse"})
	if err != nil {
		t.Fatal(err)
	}
	m.rand = io.LimitReader(strings.NewReader(strings.Repeat("r", 100)), 19)
	if en, err := m.Enroll(context.Background(), "s:1", "alice"); err == nil || en.URI != "" {
		t.Fatalf("Enroll with 19 bytes of randomness for a 20-byte secret: %+v, %v", en, err)
	}
	if _, err := m.RecoveryCodes(context.Background(), "s:1"); err == nil {
		t.Fatal("RecoveryCodes with a spent random source")
	}
	if f.Len() != 0 {
		t.Fatal("a failed enrolment stored factors")
	}
}
