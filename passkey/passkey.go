package passkey

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// UserVerification is the policy on the authenticator verifying the user
// (a PIN or a biometric, the UV flag), beyond their presence (a touch).
type UserVerification int

const (
	// UVRequired, the default: every registration and login must carry
	// the UV flag, checked on the server (a browser told "required" is no
	// guarantee: the response is the client's to forge). A passkey is
	// then two factors in one (something you have, something you know or
	// are), which is what lets a passwordless login stand alone.
	UVRequired UserVerification = iota
	// UVPreferred asks for verification and accepts a response without it;
	// Result.UserVerified says which it was.
	UVPreferred
	// UVDiscouraged asks for presence only: a security key used as a second
	// factor after the password.
	UVDiscouraged
)

func (uv UserVerification) protocol() protocol.UserVerificationRequirement {
	switch uv {
	case UVPreferred:
		return protocol.VerificationPreferred
	case UVDiscouraged:
		return protocol.VerificationDiscouraged
	}
	return protocol.VerificationRequired
}

// COSE algorithm identifiers of credential keys (IANA COSE Algorithms).
const (
	AlgES256 = -7   // ECDSA P-256 with SHA-256: every platform authenticator
	AlgEdDSA = -8   // Ed25519: some security keys
	AlgES384 = -35  // ECDSA P-384 with SHA-384
	AlgES512 = -36  // ECDSA P-521 with SHA-512
	AlgPS256 = -37  // RSASSA-PSS with SHA-256
	AlgRS256 = -257 // RSASSA-PKCS1-v1_5 with SHA-256: Windows Hello
)

var knownAlgs = []int{AlgES256, AlgEdDSA, AlgES384, AlgES512, AlgPS256, AlgRS256}

// Config configures a [Manager]. RPID, RPDisplayName, Origins, Tokens and
// Credentials are required; every other zero field means its default.
type Config struct {
	// RPID is the relying party ID: the registrable domain passkeys are
	// bound to, such as "example.com" (a host, no scheme or port). A
	// passkey made for it works on it and its subdomains and nowhere else.
	RPID string
	// RPDisplayName is the app's name as the browser shows it.
	RPDisplayName string
	// Origins are the web origins ceremonies may come from, such as
	// "https://example.com" or "https://login.example.com": each https
	// (http only for localhost), with a host that is RPID or under it.
	// The origin the browser reports is checked against them.
	Origins []string

	// Tokens issues and consumes the ceremonies' challenges
	// (store.KindChallenge, tokens.Config.ChallengeTTL: 5 minutes by
	// default).
	Tokens *tokens.Manager
	// Credentials is the app's storage of each subject's passkeys.
	Credentials Credentials

	// UserVerification is the UV policy; UVRequired by default.
	UserVerification UserVerification
	// Algorithms are the COSE algorithms a new passkey's key may use, most
	// preferred first; by default ES256, EdDSA, RS256. Registrations of
	// another are refused (unsupported_algorithm); passkeys already stored
	// keep working.
	Algorithms []int
	// MaxCredentials is how many passkeys one account may have; 10 by
	// default.
	MaxCredentials int
	// MaxResponseBytes bounds a ceremony's response, refused unread above
	// it (response_too_large); 16 KiB by default, room for an attestation
	// with a certificate chain.
	MaxResponseBytes int
	// AllowCloneWarning lets a login through when the signature counter
	// did not go up (a sign of a copied key), audited as
	// passkey.clone_warning all the same. By default such a login is
	// refused with ErrCloneDetected.
	AllowCloneWarning bool

	// Logger and Metrics receive an audit event for each ceremony
	// finished: passkey.registered, passkey.passed, passkey.failed (reason:
	// the error code), passkey.clone_warning (a warning), passkey.removed;
	// with the subject and the credential ID, never a challenge. Default
	// none.
	Logger  *slog.Logger
	Metrics audit.Metrics

	// Now stamps Created and LastUsed; default time.Now. Challenges expire
	// by the tokens.Manager's clock.
	Now func() time.Time
}

// Manager runs WebAuthn ceremonies and keeps passkeys. It is safe for
// concurrent use and holds no state of its own: challenges live in the
// token store, credentials in Config.Credentials, so any number of
// instances of an app share one view.
type Manager struct {
	cfg    Config
	wa     *webauthn.WebAuthn
	params []protocol.CredentialParameter
	rec    *audit.Recorder
	ttl    time.Duration
}

// New checks cfg, fills its defaults and returns a Manager.
func New(cfg Config) (*Manager, error) {
	switch {
	case cfg.Tokens == nil:
		return nil, errors.New("passkey: Config.Tokens is nil")
	case cfg.Credentials == nil:
		return nil, errors.New("passkey: Config.Credentials is nil")
	case cfg.RPDisplayName == "":
		return nil, errors.New("passkey: Config.RPDisplayName is empty")
	}
	if err := checkRPID(cfg.RPID); err != nil {
		return nil, err
	}
	if len(cfg.Origins) == 0 {
		return nil, errors.New("passkey: Config.Origins is empty")
	}
	cfg.Origins = slices.Clone(cfg.Origins)
	for i, o := range cfg.Origins {
		if err := checkOrigin(o, cfg.RPID); err != nil {
			return nil, err
		}
		// A browser reports an origin without the slash; the library
		// compares them as strings would.
		cfg.Origins[i] = strings.TrimSuffix(o, "/")
	}
	switch cfg.UserVerification {
	case UVRequired, UVPreferred, UVDiscouraged:
	default:
		return nil, fmt.Errorf("passkey: Config.UserVerification %d", cfg.UserVerification)
	}
	if cfg.Algorithms == nil {
		cfg.Algorithms = []int{AlgES256, AlgEdDSA, AlgRS256}
	}
	if len(cfg.Algorithms) == 0 {
		return nil, errors.New("passkey: Config.Algorithms is empty")
	}
	params := make([]protocol.CredentialParameter, 0, len(cfg.Algorithms))
	for _, a := range cfg.Algorithms {
		if !slices.Contains(knownAlgs, a) {
			return nil, fmt.Errorf("passkey: Config.Algorithms: unknown COSE algorithm %d", a)
		}
		params = append(params, protocol.CredentialParameter{Type: protocol.PublicKeyCredentialType, Algorithm: coseAlg(a)})
	}
	cfg.Algorithms = slices.Clone(cfg.Algorithms)
	if cfg.MaxCredentials == 0 {
		cfg.MaxCredentials = 10
	}
	if cfg.MaxCredentials < 0 || cfg.MaxCredentials > 100 {
		return nil, fmt.Errorf("passkey: Config.MaxCredentials %d: want 1 to 100", cfg.MaxCredentials)
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = 16 << 10
	}
	if cfg.MaxResponseBytes < 1<<10 || cfg.MaxResponseBytes > 1<<20 {
		return nil, fmt.Errorf("passkey: Config.MaxResponseBytes %d: want 1 KiB to 1 MiB", cfg.MaxResponseBytes)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	rk := true
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          cfg.RPID,
		RPDisplayName: cfg.RPDisplayName,
		RPOrigins:     cfg.Origins,
		// No attestation: passkey providers give "none" anyway, and asking
		// for it adds a consent prompt for nothing we check (no MDS).
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			// Discoverable credentials: what makes a passkey, and what a
			// passwordless login needs.
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: &rk,
			UserVerification:   cfg.UserVerification.protocol(),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return &Manager{cfg: cfg, wa: wa, params: params, rec: audit.New(cfg.Logger, cfg.Metrics),
		ttl: cfg.Tokens.TTL(storeKindChallenge)}, nil
}

// checkRPID: a host name, lowercase, without scheme, port or path, and not
// an IP address (browsers refuse those as RP IDs).
func checkRPID(id string) error {
	if id == "" || strings.ContainsAny(id, ":/?#@ ") || id != strings.ToLower(id) ||
		strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || net.ParseIP(id) != nil {
		return fmt.Errorf("passkey: Config.RPID %q: want a lowercase host name such as example.com", id)
	}
	if err := protocol.ValidateRPID(id); err != nil {
		return fmt.Errorf("passkey: Config.RPID %q: %w", id, err)
	}
	return nil
}

// checkOrigin: https (http only on localhost, as browsers allow WebAuthn
// there), nothing after the host and port, and a host that is the RP ID or
// a subdomain of it: an origin elsewhere could never complete a ceremony.
func checkOrigin(origin, rpID string) error {
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("passkey: Config.Origins %q: %w", origin, err)
	}
	host := u.Hostname()
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch {
	case u.Scheme != "https" && !(u.Scheme == "http" && local):
		return fmt.Errorf("passkey: Config.Origins %q: want https (http only for localhost)", origin)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return fmt.Errorf("passkey: Config.Origins %q: want scheme://host[:port] only", origin)
	case host != rpID && !strings.HasSuffix(host, "."+rpID):
		return fmt.Errorf("passkey: Config.Origins %q: host is not Config.RPID %q or under it", origin, rpID)
	}
	return nil
}
