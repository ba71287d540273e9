package passkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// Credentials is where the app keeps each subject's passkeys: one opaque
// blob per subject, in its own database beside its users, since they live
// as long as the account does. The method set is mfa.Factors's, so an
// mfa.MemoryFactors serves in tests and examples, and an app's SQL table
// of factors serves both, as two tables or two instances (never one:
// each package owns its blob).
//
// The blob holds public keys and counters, no secret, so it is not
// sealed; it is JSON with a version. Both methods are safe for
// concurrent use; errors are for failures only (a miss is not one).
type Credentials interface {
	// Get returns the blob stored for subject, or nil and a nil error when
	// there is none.
	Get(ctx context.Context, subject string) ([]byte, error)

	// CompareAndSwap stores next for subject if the stored blob is still
	// old, atomically, and reports whether it did. old nil means "only if
	// there is none"; next nil deletes the blob. Of concurrent swaps from
	// one old blob exactly one reports true: that is what keeps a sign
	// counter from going back and MaxCredentials from being overrun.
	CompareAndSwap(ctx context.Context, subject string, old, next []byte) (bool, error)
}

// Credential is one registered passkey as the app shows it (List) and as
// a ceremony reports it. It holds no secret.
type Credential struct {
	// ID is the credential ID, unpadded base64url: what Rename and Remove
	// take.
	ID string
	// Nickname is the user's name for it ("Work laptop"); may be empty.
	Nickname string
	// Algorithm is the COSE algorithm of its key: -7 ES256, -8 EdDSA,
	// -257 RS256.
	Algorithm int
	// Transports are the transports the browser reported ("internal",
	// "hybrid", "usb", ...), sent back in allowCredentials as hints.
	Transports []string
	// AAGUID names the authenticator model (all zero for most passkey
	// providers that attest "none"), as a UUID string.
	AAGUID string
	// BackupEligible and BackedUp are the BE and BS flags: a synced
	// passkey (iCloud Keychain, Google Password Manager) is eligible, and
	// backed up once synced.
	BackupEligible bool
	BackedUp       bool
	// SignCount is the authenticator's last signature counter; synced
	// passkeys keep it at 0.
	SignCount uint32
	// Created is when it was registered; LastUsed when it last passed a
	// login (zero until then).
	Created  time.Time
	LastUsed time.Time
}

// stored is a credential as the blob keeps it.
type stored struct {
	ID             []byte    `json:"id"`
	PublicKey      []byte    `json:"pk"` // COSE_Key, as the authenticator gave it
	Alg            int       `json:"alg"`
	SignCount      uint32    `json:"count"`
	Transports     []string  `json:"transports,omitempty"`
	BackupEligible bool      `json:"be,omitempty"`
	BackupState    bool      `json:"bs,omitempty"`
	UserVerified   bool      `json:"uv,omitempty"`
	AAGUID         []byte    `json:"aaguid,omitempty"`
	Format         string    `json:"fmt,omitempty"` // the attestation format
	Nickname       string    `json:"name,omitempty"`
	Created        time.Time `json:"created"`
	LastUsed       time.Time `json:"used,omitzero"`
}

func (s *stored) public() Credential {
	return Credential{
		ID: base64.RawURLEncoding.EncodeToString(s.ID), Nickname: s.Nickname, Algorithm: s.Alg,
		Transports: append([]string(nil), s.Transports...), AAGUID: uuidString(s.AAGUID),
		BackupEligible: s.BackupEligible, BackedUp: s.BackupState, SignCount: s.SignCount,
		Created: s.Created, LastUsed: s.LastUsed,
	}
}

func uuidString(b []byte) string {
	if len(b) != 16 {
		return ""
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// record is a subject's blob.
type record struct {
	V     int      `json:"v"`
	Creds []stored `json:"creds"`
}

func (r *record) find(id []byte) int {
	for i := range r.Creds {
		if bytes.Equal(r.Creds[i].ID, id) {
			return i
		}
	}
	return -1
}

// loaded is a subject's record with the blob it came from: the version a
// write compares against.
type loaded struct {
	rec  record
	blob []byte // nil when the subject has none
}

func (m *Manager) load(ctx context.Context, subject string) (loaded, error) {
	if subject == "" {
		return loaded{}, ErrInvalidSubject
	}
	if len(subject) > maxUserHandle {
		// No passkey can be registered for it (BeginRegistration refuses
		// it), so it has none: asking (auth, at every login) is no error.
		return loaded{rec: record{V: 1}}, nil
	}
	blob, err := m.cfg.Credentials.Get(ctx, subject)
	if err != nil {
		return loaded{}, fmt.Errorf("passkey: reading credentials: %w", err)
	}
	if blob == nil {
		return loaded{rec: record{V: 1}}, nil
	}
	var rec record
	if err := json.Unmarshal(blob, &rec); err != nil || rec.V != 1 {
		// The app's storage, not the client: a 500, never a pass.
		return loaded{}, fmt.Errorf("passkey: stored credentials of version %d do not read: %v", rec.V, err)
	}
	return loaded{rec: rec, blob: blob}, nil
}

// maxSwaps bounds the retries of one read-modify-write against concurrent
// writes of the same subject; each retry means another write succeeded.
const maxSwaps = 64

// update loads subject's record, lets f change it, and writes it, from the
// start again when another write came first. f returns an error to stop
// without writing. An empty record deletes the blob.
func (m *Manager) update(ctx context.Context, subject string, f func(rec *record) error) error {
	for range maxSwaps {
		l, err := m.load(ctx, subject)
		if err != nil {
			return err
		}
		if len(subject) > maxUserHandle {
			return ErrInvalidSubject
		}
		rec := l.rec
		rec.Creds = append([]stored(nil), l.rec.Creds...) // f must not write into l's
		if err := f(&rec); err != nil {
			return err
		}
		var next []byte
		if len(rec.Creds) > 0 {
			if next, err = json.Marshal(rec); err != nil {
				return err
			}
		} else if l.blob == nil {
			return nil
		}
		ok, err := m.cfg.Credentials.CompareAndSwap(ctx, subject, l.blob, next)
		if err != nil {
			return fmt.Errorf("passkey: writing credentials: %w", err)
		}
		if ok {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return errContended
}

// checkSubject: the subject is the WebAuthn user handle, which is 1 to 64
// bytes (WebAuthn §5.4.3) and must carry no personal data, since an
// authenticator keeps it and hands it to whoever asks (an email address
// would leak).
func checkSubject(subject string) error {
	if len(subject) == 0 || len(subject) > maxUserHandle {
		return ErrInvalidSubject
	}
	return nil
}

const maxUserHandle = 64
