package password_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
)

func mustPolicy(t testing.TB, cfg password.PolicyConfig) *password.Policy {
	t.Helper()
	p, err := password.NewPolicy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPolicyCheck: each rule of SP 800-63B-4 §3.1.1.2, and each kind of
// bad input, is a *PolicyError with its reason and a 400 with its code.
func TestPolicyCheck(t *testing.T) {
	single := mustPolicy(t, password.PolicyConfig{Words: []string{"Gatehouse"}})
	multi := mustPolicy(t, password.PolicyConfig{MultiFactor: true, Words: []string{"Gatehouse"}})
	related := []string{"alice_wonder", "Alice.Walker@example.com", ""}
	for _, tc := range []struct {
		name   string
		policy *password.Policy
		pw     string
		reason password.Reason // "" for accepted
		code   string
	}{
		{"15 characters", single, "correct horse b", "", ""},
		{"14 characters", single, "correct horse ", password.ReasonTooShort, "password_too_short"},
		{"8 characters with a second factor", multi, "tr0ub4d&", "", ""},
		{"7 characters with a second factor", multi, "tr0ub4d", password.ReasonTooShort, "password_too_short"},
		{"empty", single, "", password.ReasonEmpty, "password_too_short"},
		{"64 characters", single, strings.Repeat("violet kettle ", 4) + "green te", "", ""},
		{"65 characters", single, strings.Repeat("violet kettle ", 4) + "green tea", password.ReasonTooLong, "password_too_long"},
		{"64 characters of 4 bytes (256 bytes)", single, strings.Repeat("😀🐍🦀🐹🌵🎲🚲🍋", 8), "", ""},
		{"65 characters of 4 bytes", single, strings.Repeat("😀", 65), password.ReasonTooLong, "password_too_long"},
		{"a megabyte", single, strings.Repeat("a", 1<<20), password.ReasonTooLong, "password_too_long"},
		{"every printable ASCII character", single, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~", password.ReasonTooLong, "password_too_long"},
		{"printable ASCII, 64", single, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`", "", ""},
		{"spaces inside", single, "my  dog   has fleas", "", ""},
		{"Unicode", single, "пароль для входа в систему", "", ""},
		{"emoji with joiners", single, "👨‍👩‍👧 family of three 🏠", "", ""},
		{"Hindi with a virama and joiner", single, "मेरा पासवर्ड क्ष‍ बहुत", "", ""},
		{"no composition rule: lowercase only", single, "purple monkey dishwasher", "", ""},
		{"invalid UTF-8", single, "correct horse \xff battery", password.ReasonInvalidUTF8, "password_invalid"},
		{"a lone continuation byte", single, "\x80correct horse battery", password.ReasonInvalidUTF8, "password_invalid"},
		{"NUL", single, "correct horse\x00battery", password.ReasonControl, "password_invalid"},
		{"tab", single, "correct\thorse battery", password.ReasonControl, "password_invalid"},
		{"newline", single, "correct horse battery\n", password.ReasonControl, "password_invalid"},
		{"DEL", single, "correct horse battery\x7f", password.ReasonControl, "password_invalid"},
		{"C1 control", single, "correct horse battery\u0085", password.ReasonControl, "password_invalid"},
		{"line separator", single, "correct horse\u2028battery", password.ReasonControl, "password_invalid"},
		{"noncharacter", single, "correct horse battery\uFFFF", password.ReasonControl, "password_invalid"},
		{"unassigned", single, "correct horse battery\U000E0080", password.ReasonControl, "password_invalid"},
		{"leading combining mark", single, "\u0301correct horse battery", password.ReasonCombining, "password_invalid"},
		{"stacked marks (zalgo)", single, "cor\u0301\u0302\u0303\u0304\u0305\u0306rect horse battery", password.ReasonCombining, "password_invalid"},
		{"four marks on one letter", single, "co\u0323\u0302\u0301\u0308rrect horse battery", "", ""},
		{"decomposed accents count once", single, strings.Repeat("e\u0301", 7) + strings.Repeat("o\u0301", 7), password.ReasonTooShort, "password_too_short"},
		{"decomposed accents, 15 letters", single, strings.Repeat("e\u0301", 7) + "a" + strings.Repeat("o\u0301", 7), "", ""},
		{"common password", multi, "password", password.ReasonBlocklisted, "password_blocklisted"},
		{"common password, other case and spaces", multi, "  PassWord ", password.ReasonBlocklisted, "password_blocklisted"},
		{"common password, fullwidth", multi, "ｐａｓｓｗｏｒｄ", password.ReasonBlocklisted, "password_blocklisted"},
		{"common password with digits added", single, "password1234567", password.ReasonBlocklisted, "password_blocklisted"},
		{"common password with symbols around", multi, "!!baseball2024!", password.ReasonBlocklisted, "password_blocklisted"},
		{"common 15+ password", single, "1qaz2wsx3edc4rfv", password.ReasonBlocklisted, "password_blocklisted"},
		{"common word inside a longer one", single, "password is my secret friend", "", ""},
		{"common password twice", single, "baseballbaseball", password.ReasonBlocklisted, "password_blocklisted"},
		{"a short string again and again", single, "abcabcabcabcabc", password.ReasonBlocklisted, "password_blocklisted"},
		{"one character", single, "aaaaaaaaaaaaaaaa", password.ReasonBlocklisted, "password_blocklisted"},
		{"a run up", single, "abcdefghijklmnop", password.ReasonBlocklisted, "password_blocklisted"},
		{"a run down", multi, "987654321", password.ReasonBlocklisted, "password_blocklisted"},
		{"digits twice over", single, "12345678901234567890", password.ReasonBlocklisted, "password_blocklisted"},
		{"a long unusual unit twice", single, "violet kettlevioletkettle", "", ""},
		{"username", multi, "alice_wonder", password.ReasonContext, "password_context"},
		{"username in another case, with spaces", multi, " ALICE_WONDER  ", password.ReasonContext, "password_context"},
		{"email", single, "alice.walker@example.com", password.ReasonContext, "password_context"},
		{"email's local part", multi, "alice.walker", password.ReasonContext, "password_context"},
		{"email's local part and digits", single, "Alice.Walker1234567", password.ReasonContext, "password_context"},
		{"app name", multi, "GATEHOUSE", password.ReasonContext, "password_context"},
		{"app name with year", multi, "gatehouse2026!", password.ReasonContext, "password_context"},
		{"containing the username", single, "alice_wonder likes long walks", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.Check(context.Background(), tc.pw, related...)
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v, want nil", tc.pw, err)
				}
				return
			}
			var pe *password.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) = %v, want a *PolicyError", tc.pw, err)
			}
			if pe.Reason != tc.reason {
				t.Errorf("reason %q, want %q", pe.Reason, tc.reason)
			}
			p := problem.Of(err)
			if p.Status != http.StatusBadRequest || p.Code != tc.code || p.Field != "password" || p.Message == "" {
				t.Errorf("problem %+v, want 400 %s on the field password", p, tc.code)
			}
			if len(tc.pw) > 8 && strings.Contains(p.Message, tc.pw) {
				t.Errorf("the message %q repeats the password", p.Message)
			}
		})
	}
}

func TestNewPolicyRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  password.PolicyConfig
	}{
		{"minimum 14 for a single factor", password.PolicyConfig{MinLength: 14}},
		{"minimum 7 with a second factor", password.PolicyConfig{MinLength: 7, MultiFactor: true}},
		{"maximum 63", password.PolicyConfig{MaxLength: 63}},
		{"maximum over the limit", password.PolicyConfig{MaxLength: password.MaxLengthLimit + 1}},
		{"minimum over the maximum", password.PolicyConfig{MinLength: 100, MaxLength: 80}},
		{"negative minimum", password.PolicyConfig{MinLength: -1}},
		{"a blocklist and none", password.PolicyConfig{Blocklist: password.CommonPasswords(), WithoutBlocklist: true}},
	} {
		if _, err := password.NewPolicy(tc.cfg); err == nil {
			t.Errorf("%s: NewPolicy accepted %+v", tc.name, tc.cfg)
		}
	}
	p := mustPolicy(t, password.PolicyConfig{})
	if p.MinLength() != 15 || p.MaxLength() != 64 {
		t.Errorf("defaults %d..%d, want 15..64", p.MinLength(), p.MaxLength())
	}
	p = mustPolicy(t, password.PolicyConfig{MultiFactor: true, MinLength: 12, MaxLength: 128})
	if p.MinLength() != 12 || p.MaxLength() != 128 {
		t.Errorf("set %d..%d, want 12..128", p.MinLength(), p.MaxLength())
	}
}

func TestPolicyWithoutBlocklist(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{MultiFactor: true, WithoutBlocklist: true})
	if err := p.Check(context.Background(), "password"); err != nil {
		t.Fatalf("without a blocklist: %v", err)
	}
}

type fakeBreaches struct {
	known map[string]bool
	err   error
	got   []string
}

func (f *fakeBreaches) Breached(_ context.Context, pw string) (bool, error) {
	f.got = append(f.got, pw)
	return f.known[pw], f.err
}

// TestPolicyBreached: the BreachChecker is asked last, with the normalised
// password, and its failure is the check's.
func TestPolicyBreached(t *testing.T) {
	ctx := context.Background()
	f := &fakeBreaches{known: map[string]bool{"caf\u00e9 au lait avec sucre": true}}
	p := mustPolicy(t, password.PolicyConfig{Breached: f})
	err := p.Check(ctx, "cafe\u0301 au lait avec sucre")
	var pe *password.PolicyError
	if !errors.As(err, &pe) || pe.Reason != password.ReasonBreached || problem.Of(err).Code != "password_breached" {
		t.Fatalf("breached password: %v", err)
	}
	if len(f.got) != 1 || f.got[0] != "caf\u00e9 au lait avec sucre" {
		t.Errorf("the checker got %q, want the NFC form", f.got)
	}
	if err := p.Check(ctx, "password"); !errors.As(err, &pe) || pe.Reason != password.ReasonTooShort {
		t.Errorf("short password: %v", err)
	}
	if len(f.got) != 1 {
		t.Errorf("the checker was asked about a password the offline rules refuse")
	}
	down := errors.New("range API down")
	f.err = down
	if err := p.Check(ctx, "an unremarkable sentence"); !errors.Is(err, down) {
		t.Errorf("checker failure: %v, want it wrapped", err)
	}
}

// TestNormalize: NFC, so canonically equal passwords are one, and
// compatibility characters stay themselves.
func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ascii", "plain ascii"},
		{"cafe\u0301", "caf\u00e9"},
		{"caf\u00e9", "caf\u00e9"},
		{"\u212b", "\u00c5"}, // ANGSTROM SIGN is canonically Å
		{"ｐａｓｓ", "ｐａｓｓ"},     // fullwidth stays fullwidth
		{"ﬁ", "ﬁ"},           // so does the ligature
		{"\u1e0b\u0323", "\u1e0d\u0307"},
	} {
		if got := password.Normalize(tc.in); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := password.Fold(" ＰＡＳＳ Straße "); got != "pass strasse" {
		t.Errorf("Fold = %q", got)
	}
}

// FuzzPolicy: Check never panics; an accepted password is valid UTF-8,
// within the policy's lengths once normalised, with no control character;
// Normalize is idempotent and keeps valid UTF-8 valid.
func FuzzPolicy(f *testing.F) {
	for _, s := range []string{"", "correct horse battery staple", "password", "cafe\u0301 cafe\u0301 cafe\u0301 ",
		"\xff\xfe", "a\x00b", "\u0301\u0301", "ｐａｓｓｗｏｒｄ１２３４５６７", "👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧👨‍👩‍👧",
		strings.Repeat("\u0958", 30), "alice_w2024!!!!!!!"} {
		f.Add(s, "alice_w")
	}
	p := mustPolicy(f, password.PolicyConfig{})
	f.Fuzz(func(t *testing.T, pw, user string) {
		n := password.Normalize(pw)
		if password.Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent on %q", pw)
		}
		if utf8.ValidString(pw) && !utf8.ValidString(n) {
			t.Fatalf("Normalize(%q) is not valid UTF-8", pw)
		}
		_ = password.Fold(pw)
		err := p.Check(context.Background(), pw, user)
		if err != nil {
			if problem.Of(err).Status != http.StatusBadRequest {
				t.Fatalf("Check(%q) = %v, not a 400", pw, err)
			}
			return
		}
		if !utf8.ValidString(pw) {
			t.Fatalf("accepted invalid UTF-8 %q", pw)
		}
		if c := utf8.RuneCountInString(n); c < p.MinLength() || c > p.MaxLength() {
			t.Fatalf("accepted %q of %d characters", pw, c)
		}
		for _, r := range pw {
			if r < 0x20 || (r >= 0x7f && r < 0xa0) {
				t.Fatalf("accepted %q with the control character %U", pw, r)
			}
		}
		if password.Fold(pw) == password.Fold(user) {
			t.Fatalf("accepted %q, the user's name %q", pw, user)
		}
	})
}

// BenchmarkPolicyCheck: a whole check of an acceptable password.
func BenchmarkPolicyCheck(b *testing.B) {
	p := mustPolicy(b, password.PolicyConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Check(b.Context(), "Correct Horse Battery Staple", "alice", "alice@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}
