package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

type waUser struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *waUser) WebAuthnID() []byte                         { return u.id }
func (u *waUser) WebAuthnName() string                       { return "bench" }
func (u *waUser) WebAuthnDisplayName() string                { return "bench" }
func (u *waUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// BenchmarkPasskeyLogin: verifying one passkey assertion (ES256, a
// second-factor login with UV required), parsing included. The
// responses are signed before the timer starts.
//
//   - gatehouse-memory: passkey.Manager.FinishLogin on the memory store
//     and mfa.MemoryFactors: parse, consume the challenge token (SHA-256,
//     one store Consume), read the JSON of the subject's passkeys, the
//     library's verification, and a compare-and-swap of the new counter.
//   - go-webauthn: protocol.ParseCredentialRequestResponseBytes and
//     WebAuthn.ValidateLogin with the session held in memory: the
//     signature and the checks, no challenge store, no counter written.
//     It is the floor, not a like-for-like peer.
func BenchmarkPasskeyLogin(b *testing.B) {
	const origin = "https://example.com"
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: bytes.Repeat([]byte{7}, 32), ChallengeTTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	m, err := passkey.New(passkey.Config{RPID: "example.com", RPDisplayName: "Bench", Origins: []string{origin},
		Tokens: tm, Credentials: new(mfa.MemoryFactors)})
	if err != nil {
		b.Fatal(err)
	}
	auth := passkeytest.New(origin)
	o, err := m.BeginRegistration(ctx, "s:1", "bench", "")
	if err != nil {
		b.Fatal(err)
	}
	resp, k, err := auth.Register(o)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := m.FinishRegistration(ctx, "s:1", resp, ""); err != nil {
		b.Fatal(err)
	}

	b.Run("gatehouse-memory", func(b *testing.B) {
		resps := make([][]byte, b.N)
		for i := range resps {
			o, err := m.BeginLogin(ctx, "s:1")
			if err != nil {
				b.Fatal(err)
			}
			if resps[i], err = auth.Login(o, k); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := m.FinishLogin(ctx, "s:1", resps[i]); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("go-webauthn", func(b *testing.B) {
		wa, err := webauthn.New(&webauthn.Config{RPID: "example.com", RPDisplayName: "Bench", RPOrigins: []string{origin}})
		if err != nil {
			b.Fatal(err)
		}
		list, err := m.List(ctx, "s:1")
		if err != nil {
			b.Fatal(err)
		}
		id, _ := base64.RawURLEncoding.DecodeString(list[0].ID)
		user := &waUser{id: []byte("s:1"), creds: []webauthn.Credential{{ID: id, PublicKey: k.PublicKey,
			Flags: webauthn.CredentialFlags{UserPresent: true, UserVerified: true, BackupEligible: true, BackupState: true}}}}
		challenge := []byte("a fixed challenge of 32 bytes...")
		o, session, err := wa.BeginLogin(user, webauthn.WithChallenge(challenge),
			webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			b.Fatal(err)
		}
		opts, err := json.Marshal(o.Response)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := auth.Login(opts, k)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			parsed, err := protocol.ParseCredentialRequestResponseBytes(resp)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := wa.ValidateLogin(user, *session, parsed); err != nil {
				b.Fatal(err)
			}
		}
	})
}
