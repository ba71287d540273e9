package mfa

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

// Config configures a Manager. Store, Factors, Keyring and Issuer are
// required; every other zero field means its default.
type Config struct {
	// Store keeps what expires: the burned TOTP time steps and the
	// attempt counters. Usually the store that keeps the tokens; give it
	// the same clock as Now.
	Store store.Counters
	// Factors is the app's storage of each subject's sealed factors.
	Factors Factors
	// Keyring seals the factors before they reach Factors.
	Keyring *Keyring
	// Issuer is the app's name as authenticator apps show it: required,
	// and without a ':' (the otpauth label's separator).
	Issuer string

	// Algorithm, Digits and Period are those of new TOTP keys: SHA1, 6
	// and 30 seconds by default, what every authenticator app reads. A
	// key keeps those it was enrolled with.
	Algorithm Algorithm
	Digits    int
	Period    time.Duration
	// SecretSize is the size of new TOTP secrets in bytes: at least
	// MinSecretSize (160 bits); by default 20 for SHA1, 32 for SHA256 and
	// 64 for SHA512, the hash's own size as RFC 6238 advises.
	SecretSize int
	// EnrollFor is how long an enrolment waits for its confirming code;
	// 10 minutes by default.
	EnrollFor time.Duration

	// MaxAttempts is how many second-factor attempts (TOTP or recovery
	// codes, right or wrong) one account may make within AttemptWindow
	// before the next is refused with *LockedError until the window
	// ends; 5 and 15 minutes by default (a window from 1s to 24h). DailyAttempts bounds them over
	// 24 hours as well; 20 by default. A right code clears both counts.
	// This limit is the account's own, apart from the password lockout:
	// a stolen password does not buy more code guesses. Per-client limits
	// on the same routes are the HTTP layer's (limit.MFA).
	MaxAttempts   int
	AttemptWindow time.Duration
	DailyAttempts int

	// Passkeys, when set, makes passkeys a second factor beside TOTP (see
	// Passkeys): an account with one needs the second step, and
	// VerifySecondFactor takes KindPasskey, counted against the same
	// attempt limit. *passkey.Manager implements it.
	Passkeys Passkeys

	// Logger and Metrics receive an audit event for each code checked
	// (mfa.passed, mfa.failed with the error code as reason, mfa.replayed,
	// mfa.locked) and each factor enrolled or removed, with the subject
	// and the factor; never a code or a secret. Default none.
	Logger  *slog.Logger
	Metrics audit.Metrics

	// Now is the clock TOTP steps are reckoned by; default time.Now.
	Now func() time.Time
}

// Manager enrols and checks second factors: TOTP and recovery codes. It
// is safe for concurrent use, and holds no state of its own: everything
// lives in Config.Store and Config.Factors, so any number of instances of
// an app share one view.
type Manager struct {
	cfg  Config
	rec  *audit.Recorder
	rand io.Reader // crypto/rand.Reader; a test swaps it for a failing one
}

// New checks cfg, fills its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("mfa: Config.Store is nil")
	case cfg.Factors == nil:
		return nil, errors.New("mfa: Config.Factors is nil")
	case cfg.Keyring == nil || cfg.Keyring.aeads == nil:
		return nil, errNoKeyring
	case cfg.Issuer == "" || strings.Contains(cfg.Issuer, ":"):
		return nil, fmt.Errorf("mfa: Config.Issuer %q: want a name without ':'", cfg.Issuer)
	}
	if cfg.Algorithm == 0 {
		cfg.Algorithm = SHA1
	}
	if cfg.SecretSize == 0 {
		cfg.SecretSize = map[Algorithm]int{SHA1: 20, SHA256: 32, SHA512: 64}[cfg.Algorithm]
	}
	if cfg.SecretSize < MinSecretSize || cfg.SecretSize > maxSecretSize {
		// Before the make below: a negative size would panic there, a huge
		// one allocate it.
		return nil, fmt.Errorf("mfa: Config.SecretSize %d: want %d to %d bytes", cfg.SecretSize, MinSecretSize, maxSecretSize)
	}
	k := TOTPKey{Issuer: cfg.Issuer, Secret: make([]byte, cfg.SecretSize), Algorithm: cfg.Algorithm,
		Digits: cfg.Digits, Period: cfg.Period}.withDefaults()
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("mfa: Config: %w", err)
	}
	cfg.Digits, cfg.Period = k.Digits, k.Period
	if cfg.EnrollFor == 0 {
		cfg.EnrollFor = 10 * time.Minute
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.AttemptWindow == 0 {
		cfg.AttemptWindow = 15 * time.Minute
	}
	if cfg.DailyAttempts == 0 {
		cfg.DailyAttempts = 20
	}
	switch {
	case cfg.EnrollFor < 0:
		return nil, fmt.Errorf("mfa: Config.EnrollFor %v", cfg.EnrollFor)
	case cfg.MaxAttempts < 0 || cfg.DailyAttempts < cfg.MaxAttempts:
		return nil, fmt.Errorf("mfa: Config.MaxAttempts %d, DailyAttempts %d: want 0 < MaxAttempts ≤ DailyAttempts", cfg.MaxAttempts, cfg.DailyAttempts)
	case cfg.AttemptWindow < time.Second || cfg.AttemptWindow > 24*time.Hour:
		// Under a millisecond, Redis's window is zero (PEXPIRE 0 deletes
		// the counter at once) and every guess would be the first.
		return nil, fmt.Errorf("mfa: Config.AttemptWindow %v: want 1s to 24h", cfg.AttemptWindow)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Manager{cfg: cfg, rec: audit.New(cfg.Logger, cfg.Metrics), rand: rand.Reader}, nil
}

// record is the plaintext of a subject's sealed blob.
type record struct {
	V        int       `json:"v"`
	TOTP     *totpData `json:"totp,omitempty"`
	Pending  *totpData `json:"pending,omitempty"`  // an enrolment awaiting its first code
	Recovery [][]byte  `json:"recovery,omitempty"` // hashes of the unused recovery codes
}

type totpData struct {
	Secret    []byte    `json:"secret"`
	Algorithm string    `json:"alg"`
	Digits    int       `json:"digits"`
	Period    int       `json:"period"` // seconds
	Created   time.Time `json:"created"`
}

func (d *totpData) key() (TOTPKey, error) {
	alg, ok := parseAlgorithm(d.Algorithm)
	if !ok {
		return TOTPKey{}, fmt.Errorf("mfa: stored TOTP algorithm %q", d.Algorithm)
	}
	k := TOTPKey{Secret: d.Secret, Algorithm: alg, Digits: d.Digits, Period: time.Duration(d.Period) * time.Second}
	if err := k.check(); err != nil {
		return TOTPKey{}, fmt.Errorf("mfa: stored TOTP key: %w", err)
	}
	return k, nil
}

// loaded is a subject's record with the blob it came from, the version a
// write compares against.
type loaded struct {
	rec  record
	blob []byte // nil when the subject has none
}

func (m *Manager) load(ctx context.Context, subject string) (loaded, error) {
	if subject == "" {
		return loaded{}, errors.New("mfa: empty subject")
	}
	blob, err := m.cfg.Factors.Get(ctx, subject)
	if err != nil {
		return loaded{}, fmt.Errorf("mfa: reading factors: %w", err)
	}
	if blob == nil {
		return loaded{rec: record{V: 1}}, nil
	}
	rec, err := m.openRecord(subject, blob)
	if err != nil {
		return loaded{}, err
	}
	return loaded{rec: rec, blob: blob}, nil
}

func (m *Manager) openRecord(subject string, blob []byte) (record, error) {
	plain, err := m.cfg.Keyring.Open(subject, blob)
	if err != nil {
		return record{}, err
	}
	var rec record
	if err := json.Unmarshal(plain, &rec); err != nil || rec.V != 1 {
		return record{}, fmt.Errorf("%w: record of version %d: %v", ErrUnsealed, rec.V, err)
	}
	return rec, nil
}

// save writes rec in place of l's blob, and reports false when another
// write came first (the caller loads again and retries). An empty record
// deletes the blob.
func (m *Manager) save(ctx context.Context, subject string, l loaded, rec record) (bool, error) {
	var next []byte
	if rec.TOTP != nil || rec.Pending != nil || len(rec.Recovery) > 0 {
		plain, err := json.Marshal(rec)
		if err != nil {
			return false, err
		}
		if next, err = m.cfg.Keyring.seal(m.rand, subject, plain); err != nil {
			return false, err
		}
	} else if l.blob == nil {
		return true, nil
	}
	ok, err := m.cfg.Factors.CompareAndSwap(ctx, subject, l.blob, next)
	if err != nil {
		return false, fmt.Errorf("mfa: writing factors: %w", err)
	}
	return ok, nil
}

// maxSwaps bounds the retries of one read-modify-write against
// concurrent writes of the same subject; each retry means another write
// succeeded.
const maxSwaps = 64

var errContended = errors.New("mfa: factors changed concurrently too often; try again")

// update loads subject's record, lets f change it, and saves it, again
// from the start when another write came first. f returns an error to
// stop without writing.
func (m *Manager) update(ctx context.Context, subject string, f func(rec *record) error) error {
	for range maxSwaps {
		l, err := m.load(ctx, subject)
		if err != nil {
			return err
		}
		rec := l.rec
		if err := f(&rec); err != nil {
			return err
		}
		ok, err := m.save(ctx, subject, l, rec)
		if err != nil || ok {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return errContended
}

// Enrollment is what a user needs to add a TOTP key to an authenticator
// app. Show it once, on the enrolment page, and keep none of it.
type Enrollment struct {
	Secret string // the secret in base32 without padding, for typing in
	URI    string // the otpauth:// URI
	QRPNG  []byte // the URI as a QR code, a PNG image
}

// Enroll starts a TOTP enrolment for subject, shown in authenticator apps
// as account (such as an email address): a new secret of
// Config.SecretSize bytes from crypto/rand, pending until ConfirmEnroll
// sees a code of it within Config.EnrollFor. A new Enroll replaces a
// pending one. It answers ErrAlreadyEnrolled when a TOTP is confirmed:
// Remove it first.
func (m *Manager) Enroll(ctx context.Context, subject, account string) (Enrollment, error) {
	if account == "" {
		return Enrollment{}, errors.New("mfa: Enroll with an empty account name")
	}
	secret, err := newSecret(m.rand, m.cfg.SecretSize)
	if err != nil {
		return Enrollment{}, err
	}
	key := TOTPKey{Issuer: m.cfg.Issuer, Account: account, Secret: secret,
		Algorithm: m.cfg.Algorithm, Digits: m.cfg.Digits, Period: m.cfg.Period}
	uri := key.URI()
	png, err := qrPNG(uri)
	if err != nil {
		return Enrollment{}, err
	}
	err = m.update(ctx, subject, func(rec *record) error {
		if rec.TOTP != nil {
			return ErrAlreadyEnrolled
		}
		rec.Pending = &totpData{Secret: secret, Algorithm: key.Algorithm.String(), Digits: key.Digits,
			Period: int(key.Period / time.Second), Created: m.cfg.Now().UTC()}
		return nil
	})
	if err != nil {
		return Enrollment{}, err
	}
	return Enrollment{Secret: b32.EncodeToString(secret), URI: uri, QRPNG: png}, nil
}

// ConfirmEnroll completes subject's pending enrolment with a code of its
// key: the TOTP is enrolled from then on, and the code's step is burned
// (it does not pass Verify again). It answers ErrNotEnrolled when nothing
// is pending or the enrolment expired, and counts toward the attempt
// limit as Verify does.
func (m *Manager) ConfirmEnroll(ctx context.Context, subject, code string) error {
	err := m.confirmEnroll(ctx, subject, code)
	m.checked(ctx, subject, factorTOTP, err)
	if err == nil {
		m.rec.Record(ctx, audit.MFAEnrolled, slog.String(audit.KeySubject, subject), slog.String(audit.KeyFactor, factorTOTP))
	}
	return err
}

func (m *Manager) confirmEnroll(ctx context.Context, subject, code string) error {
	if !mayBeCode(code) {
		return ErrMalformedCode
	}
	l, err := m.load(ctx, subject)
	if err != nil {
		return err
	}
	p := l.rec.Pending
	if p == nil || m.cfg.Now().Sub(p.Created) >= m.cfg.EnrollFor {
		return ErrNotEnrolled
	}
	key, err := p.key()
	if err != nil {
		return err
	}
	if err := m.checkTOTP(ctx, subject, key, code); err != nil {
		return err
	}
	return m.update(ctx, subject, func(rec *record) error {
		if rec.Pending == nil || !bytes.Equal(rec.Pending.Secret, p.Secret) {
			return ErrNotEnrolled // replaced or removed meanwhile
		}
		rec.TOTP, rec.Pending = rec.Pending, nil
		return nil
	})
}

// Verify checks a TOTP code of subject's enrolled key: one of the current
// time step or one step either side, never a step at or before the last
// one accepted, and only while the account's attempt limit allows. It
// returns nil, ErrMalformedCode (not counted), ErrNotEnrolled,
// *LockedError, ErrInvalidCode, ErrCodeReused, or a store or storage
// failure (fail closed). Of concurrent calls with one code at most one
// returns nil.
func (m *Manager) Verify(ctx context.Context, subject, code string) error {
	err := m.verify(ctx, subject, code)
	m.checked(ctx, subject, factorTOTP, err)
	return err
}

func (m *Manager) verify(ctx context.Context, subject, code string) error {
	if !mayBeCode(code) {
		return ErrMalformedCode
	}
	l, err := m.load(ctx, subject)
	if err != nil {
		return err
	}
	if l.rec.TOTP == nil {
		return ErrNotEnrolled
	}
	key, err := l.rec.TOTP.key()
	if err != nil {
		return err
	}
	return m.checkTOTP(ctx, subject, key, code)
}

// mayBeCode reports whether s could be a code of some key, 6 or 8
// digits: what cannot is refused before the factors are read (the key's
// own digits are checked once they are), as ErrMalformedCode promises, so
// that it costs no lookup and says nothing of the subject's factors.
func mayBeCode(s string) bool {
	_, err6 := parseCode(s, 6)
	_, err8 := parseCode(s, 8)
	return err6 == nil || err8 == nil
}

// checkTOTP parses code, counts the attempt, compares the code with the
// key's codes of the steps within drift, and burns the step it matched.
func (m *Manager) checkTOTP(ctx context.Context, subject string, key TOTPKey, code string) error {
	c, err := parseCode(code, key.Digits)
	if err != nil {
		return err
	}
	if err := m.attempt(ctx, subject); err != nil {
		return err
	}
	now := key.step(m.cfg.Now())
	matched := int64(0) // the step's offset from now, -drift to drift
	found := 0
	var matches [2*drift + 1]bool // by offset+drift: every step the code is of
	mac := hmac.New(key.Algorithm.hash(), key.Secret)
	var buf [8]byte
	// The loops run over offsets from now, not over steps: with now+drift
	// at math.MaxInt64 (a clock at the end of time and a period of 1s)
	// s <= now+drift would hold forever.
	for d := int64(-drift); d <= drift; d++ {
		s := now + d
		// Every step is computed and compared in constant time, without
		// an early exit: the time taken says nothing of which one matched.
		// A code of two steps (one in a million) is taken as the later
		// one's, and refused if the earlier one was used: it may be that
		// very code, accepted then as the earlier step's.
		ok := subtle.ConstantTimeCompare(hotpTo(mac, key.Digits, uint64(s), &buf), []byte(c))
		if ok == 1 {
			matched, found = d, 1
		}
		matches[d+drift] = ok == 1
	}
	if found == 0 {
		return ErrInvalidCode
	}
	if err := m.burn(ctx, subject, key.Period, now, matched, matches); err != nil {
		return err
	}
	return m.clearAttempts(ctx, subject)
}

// drift is how many time steps either side of now a code may be from.
const drift = 1

// burn marks step s = now+off of subject as used, and the 2·drift steps
// below it, in ascending order, each a store counter (Counters.Hit); step
// s is this call's if its counter was new (a count of 1). It returns
// ErrCodeReused otherwise, or when the counter of another step the code
// matches (matches, by offset+drift) was hit before: a code of steps n-1
// and n+1 accepted as n-1's must not pass again as n+1's. Every counter
// up to s is hit either way, so that a refused code is burned as well.
//
// Why this makes a code good once and steps only go up, on any store
// whose Hit is atomic: a call accepts s only as the first to hit s's
// counter, so of concurrent calls with one step at most one wins. A call
// that accepted s had hit the counter of every step from s-2·drift to s
// before it. A later call, on any instance, can only take a step s' ≥ its
// own now-drift; with clocks at most drift periods apart, and s within
// drift of the first call's now, s' ≥ s-2·drift: if s' ≤ s, it finds s'
// hit already and is refused. (Burning from now-drift instead, as this
// did first, held for one clock only: an instance a period behind could
// still take the code of a step below the other's now-drift.) A call that
// hit s' first is ordered before the one that accepted s (it hit s'
// before that one did, and so before it accepted s). A counter lives
// until its step can no longer be within drift of any instance's now,
// with room for clocks a little apart.
func (m *Manager) burn(ctx context.Context, subject string, period time.Duration, now, off int64, matches [2*drift + 1]bool) error {
	window := (2*drift + 3) * period
	reused := false
	for d := off - 2*drift; d <= off; d++ {
		step := now + d
		c, err := m.cfg.Store.Hit(ctx, stepKey(subject, step), window)
		if err != nil {
			return fmt.Errorf("mfa: burning a TOTP step: %w", err)
		}
		if d >= -drift && matches[d+drift] && c.N != 1 {
			reused = true
		}
	}
	if reused {
		return ErrCodeReused
	}
	return nil
}

func stepKey(subject string, step int64) string {
	return "mfa:totp:" + strconv.FormatInt(step, 10) + ":" + subject
}

// attempt counts one second-factor attempt on subject's account and
// refuses it when the account is over a limit. Counting before checking
// (not after a wrong code) is what keeps concurrent guesses within the
// limit: of any number at once, no more than MaxAttempts get checked.
func (m *Manager) attempt(ctx context.Context, subject string) error {
	for _, l := range []struct {
		key    string
		max    int
		window time.Duration
	}{
		{"mfa:attempts:" + subject, m.cfg.MaxAttempts, m.cfg.AttemptWindow},
		{"mfa:attempts24:" + subject, m.cfg.DailyAttempts, 24 * time.Hour},
	} {
		c, err := m.cfg.Store.Hit(ctx, l.key, l.window)
		if err != nil {
			return fmt.Errorf("mfa: counting an attempt: %w", err)
		}
		if c.N > int64(l.max) {
			return &LockedError{Until: c.ResetAt}
		}
	}
	return nil
}

// clearAttempts is told that a factor passed: the account's counts start
// over.
func (m *Manager) clearAttempts(ctx context.Context, subject string) error {
	return m.ClearAttempts(ctx, subject)
}

// ClearAttempts lifts subject's second-factor attempt limit: both counts
// start over. The limit is the account's, so whoever reaches the second
// step (someone holding the password) can spend its guesses and lock the
// owner out of TOTP and recovery codes alike, for up to a day and again
// the next; the owner's right code is refused while it lasts. Call this
// once the app has dealt with the password (the owner reset it, support
// checked who they are), never on a client's say-so.
func (m *Manager) ClearAttempts(ctx context.Context, subject string) error {
	if subject == "" {
		return errors.New("mfa: empty subject")
	}
	for _, key := range []string{"mfa:attempts:" + subject, "mfa:attempts24:" + subject} {
		if err := m.cfg.Store.Reset(ctx, key); err != nil {
			return fmt.Errorf("mfa: clearing attempts: %w", err)
		}
	}
	return nil
}

// RecoveryCodes makes a new set of RecoveryCodeCount recovery codes for
// subject and returns them in their display form ("7KQ2-M9XD-4HRT-B0CE").
// Show them once: only their hashes are kept. The new set replaces the
// old one, whose codes stop working at once.
func (m *Manager) RecoveryCodes(ctx context.Context, subject string) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([][]byte, RecoveryCodeCount)
	for i := range codes {
		c, err := newRecoveryCode(m.rand)
		if err != nil {
			return nil, err
		}
		canonical, _ := parseRecoveryCode(c)
		codes[i], hashes[i] = c, hashRecoveryCode(subject, canonical)
	}
	err := m.update(ctx, subject, func(rec *record) error {
		rec.Recovery = hashes
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.rec.Record(ctx, audit.MFAEnrolled, slog.String(audit.KeySubject, subject), slog.String(audit.KeyFactor, factorRecovery))
	return codes, nil
}

// UseRecoveryCode spends one of subject's recovery codes. It returns nil,
// ErrMalformedCode (not counted), *LockedError, ErrInvalidCode (wrong,
// used, or there are none; counted toward the attempt limit), or a store
// or storage failure. The code is removed through Factors.CompareAndSwap,
// so of any number of concurrent calls with one code at most one returns
// nil.
func (m *Manager) UseRecoveryCode(ctx context.Context, subject, code string) error {
	err := m.useRecoveryCode(ctx, subject, code)
	m.checked(ctx, subject, factorRecovery, err)
	return err
}

func (m *Manager) useRecoveryCode(ctx context.Context, subject, code string) error {
	canonical, err := parseRecoveryCode(code)
	if err != nil {
		return err
	}
	if subject == "" {
		return errors.New("mfa: empty subject")
	}
	if err := m.attempt(ctx, subject); err != nil {
		return err
	}
	sum := hashRecoveryCode(subject, canonical)
	err = m.update(ctx, subject, func(rec *record) error {
		i := findRecoveryCode(rec.Recovery, sum)
		if i < 0 {
			return ErrInvalidCode
		}
		rec.Recovery = append(rec.Recovery[:i:i], rec.Recovery[i+1:]...)
		return nil
	})
	if err != nil {
		return err
	}
	return m.clearAttempts(ctx, subject)
}

// Status is what factors a subject has.
type Status struct {
	TOTP          bool // a confirmed TOTP key
	Pending       bool // an enrolment awaiting its code (it may have expired)
	RecoveryCodes int  // unused recovery codes
	Passkeys      bool // a passkey (with Config.Passkeys)
}

// Factors reports whether subject has a factor that makes its login
// two-step: a confirmed TOTP key or a passkey.
func (s Status) Factors() bool { return s.TOTP || s.Passkeys }

// Enrolled reports subject's factors: auth asks it whether a login needs
// a second step.
func (m *Manager) Enrolled(ctx context.Context, subject string) (Status, error) {
	l, err := m.load(ctx, subject)
	if err != nil {
		return Status{}, err
	}
	st := Status{TOTP: l.rec.TOTP != nil, Pending: l.rec.Pending != nil, RecoveryCodes: len(l.rec.Recovery)}
	if m.cfg.Passkeys != nil {
		if st.Passkeys, err = m.cfg.Passkeys.HasPasskeys(ctx, subject); err != nil {
			return Status{}, err
		}
	}
	return st, nil
}

// RemoveTOTP removes subject's TOTP key (confirmed or pending) and keeps
// the recovery codes. The caller asks for a recent password first.
func (m *Manager) RemoveTOTP(ctx context.Context, subject string) error {
	err := m.update(ctx, subject, func(rec *record) error {
		rec.TOTP, rec.Pending = nil, nil
		return nil
	})
	if err == nil {
		m.rec.Record(ctx, audit.MFARemoved, slog.String(audit.KeySubject, subject), slog.String(audit.KeyFactor, factorTOTP))
	}
	return err
}

// Remove deletes every factor of subject: its TOTP key and recovery
// codes. The caller asks for a recent password first.
func (m *Manager) Remove(ctx context.Context, subject string) error {
	err := m.update(ctx, subject, func(rec *record) error {
		*rec = record{V: 1}
		return nil
	})
	if err == nil {
		m.rec.Record(ctx, audit.MFARemoved, slog.String(audit.KeySubject, subject), slog.String(audit.KeyFactor, "all"))
	}
	return err
}

// The factor names of audit events.
const (
	factorTOTP     = "totp"
	factorRecovery = "recovery"
)

// checked records the outcome of one code check as its audit event.
func (m *Manager) checked(ctx context.Context, subject, factor string, err error) {
	if m.rec == nil {
		return
	}
	attrs := []slog.Attr{slog.String(audit.KeySubject, subject), slog.String(audit.KeyFactor, factor)}
	switch {
	case err == nil:
		m.rec.Record(ctx, audit.MFAPassed, attrs...)
	case errors.Is(err, ErrLocked):
		m.rec.Record(ctx, audit.MFALocked, attrs...)
	case errors.Is(err, ErrCodeReused):
		m.rec.Record(ctx, audit.MFAReplayed, attrs...)
	case errors.Is(err, store.ErrUnavailable):
		m.rec.Record(ctx, audit.StoreUnavailable, slog.String(audit.KeyOp, "mfa"))
	default:
		m.rec.Record(ctx, audit.MFAFailed, append(attrs, slog.String(audit.KeyReason, problem.Of(err).Code))...)
	}
}

// Rekey seals subject's factors again under the keyring's current key,
// when they are under another, and reports whether it wrote: the second
// step of a key rotation (see [Keyring]).
func (m *Manager) Rekey(ctx context.Context, subject string) (bool, error) {
	for range maxSwaps {
		blob, err := m.cfg.Factors.Get(ctx, subject)
		if err != nil {
			return false, fmt.Errorf("mfa: reading factors: %w", err)
		}
		if blob == nil {
			return false, nil
		}
		id, err := KeyID(blob)
		if err != nil {
			return false, err
		}
		if id == m.cfg.Keyring.Current() {
			return false, nil
		}
		rec, err := m.openRecord(subject, blob)
		if err != nil {
			return false, err
		}
		ok, err := m.save(ctx, subject, loaded{rec: rec, blob: blob}, rec)
		if err != nil || ok {
			return ok, err
		}
	}
	return false, errContended
}
