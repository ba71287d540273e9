package bench

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/store/memory"
)

// BenchmarkTOTPVerify: checking one right TOTP code (SHA-1, 6 digits,
// 30 s, ±1 step). Each iteration is two time steps on, since gatehouse
// accepts a code once and takes a code that two steps share (one in a
// million) as the later step's.
//
//   - gatehouse-memory: mfa.Manager.Verify on the memory store and
//     MemoryFactors: open the sealed factors (AES-GCM, JSON), count the
//     attempt, compare three codes in constant time, burn the step, clear
//     the count.
//   - pquerna-otp: totp.ValidateCustom with Skew 1, which does the HMAC
//     work and nothing else: no replay check, no attempt limit, no
//     storage, and it stops at the first step that matches (the current
//     one here: one HMAC, where gatehouse computes all three in constant
//     time). It is the floor, not a like-for-like peer.
func BenchmarkTOTPVerify(b *testing.B) {
	secret := make([]byte, 20)
	rand.Read(secret)
	t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
	step := 30 * time.Second
	key := mfa.TOTPKey{Secret: secret}

	b.Run("gatehouse-memory", func(b *testing.B) {
		var now atomic.Int64
		now.Store(t0.UnixNano())
		clock := func() time.Time { return time.Unix(0, now.Load()) }
		st := memory.New(memory.Options{Now: clock})
		defer st.Close()
		secretRing := make([]byte, 32)
		rand.Read(secretRing)
		ring, err := mfa.NewKeyring(mfa.SealingKey{ID: "k", Secret: secretRing})
		if err != nil {
			b.Fatal(err)
		}
		m, err := mfa.New(mfa.Config{Store: st, Factors: new(mfa.MemoryFactors), Keyring: ring, Issuer: "Bench", Now: clock})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		en, err := m.Enroll(ctx, "s:1", "bench")
		if err != nil {
			b.Fatal(err)
		}
		k, err := mfa.ParseKeyURI(en.URI)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.ConfirmEnroll(ctx, "s:1", k.Code(clock())); err != nil {
			b.Fatal(err)
		}
		codes := make([]string, b.N)
		for i := range codes {
			codes[i] = k.Code(t0.Add(time.Duration(2*i+2) * step))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			now.Store(t0.Add(time.Duration(2*i+2) * step).UnixNano())
			if err := m.Verify(ctx, "s:1", codes[i]); err != nil {
				b.Fatalf("step %d: %v", 2*i+2, err)
			}
		}
	})

	b.Run("pquerna-otp", func(b *testing.B) {
		enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
		opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		codes := make([]string, b.N)
		for i := range codes {
			codes[i] = key.Code(t0.Add(time.Duration(i) * step))
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			ok, err := totp.ValidateCustom(codes[i], enc, t0.Add(time.Duration(i)*step), opts)
			if err != nil || !ok {
				b.Fatalf("step %d: %v, %v", i, ok, err)
			}
		}
	})
}
