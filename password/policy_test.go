package password_test

import (
	"context"
	"errors"
	"fmt"
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
// bad input, is a *PolicyError with its reason and a 400 with its code;
// everything else a user may type is accepted.
func TestPolicyCheck(t *testing.T) {
	single := mustPolicy(t, password.PolicyConfig{Words: []string{"Gatehouse"}})
	multi := mustPolicy(t, password.PolicyConfig{MultiFactor: true, Words: []string{"Gatehouse"}})
	related := []string{"alice_wonder", "Alice.Walker@example.com", ""}
	long := strings.Repeat("violet kettle ", 4) // 56 characters
	accents7 := strings.Repeat("e\u0301", 7)    // 7 characters once composed
	for _, g := range []struct {
		policy *password.Policy
		reason password.Reason // "" for accepted
		code   string
		pws    []string
	}{
		// Accepted: 15 characters, 64, printable ASCII, spaces, any
		// script, emoji with joiners, no composition rule, up to four
		// marks on a letter, containing (not being) a listed or context
		// word, a long unit said twice.
		{single, "", "", []string{"correct horse b", long + "green te", strings.Repeat("😀🐍🦀🐹🌵🎲🚲🍋", 8),
			"!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`", "my  dog   has fleas",
			"пароль для входа в систему", "👨‍👩‍👧 family of three 🏠", "मेरा पासवर्ड क्ष‍ बहुत", "purple monkey dishwasher",
			"co\u0323\u0302\u0301\u0308rrect horse battery", accents7 + "a" + accents7,
			"password is my secret friend", "violet kettlevioletkettle", "alice_wonder likes long walks"}},
		{multi, "", "", []string{"tr0ub4d&"}},
		// Too short: under 15, under 8 with a second factor, decomposed
		// accents counted once composed.
		{single, password.ReasonTooShort, "password_too_short", []string{"correct horse ", accents7 + accents7}},
		{multi, password.ReasonTooShort, "password_too_short", []string{"tr0ub4d"}},
		{single, password.ReasonEmpty, "password_too_short", []string{""}},
		// Too long: 65 characters, 65 of 4 bytes, all of printable ASCII
		// (95), a megabyte.
		{single, password.ReasonTooLong, "password_too_long", []string{long + "green tea", strings.Repeat("😀", 65),
			" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
			strings.Repeat("a", 1<<20)}},
		{single, password.ReasonInvalidUTF8, "password_invalid", []string{"correct horse \xff battery", "\x80correct horse battery"}},
		// NUL, tab, newline, DEL, C1, line separator, noncharacter,
		// unassigned.
		{single, password.ReasonControl, "password_invalid", []string{"correct horse\x00battery", "correct\thorse battery",
			"correct horse battery\n", "correct horse battery\x7f", "correct horse battery\u0085",
			"correct horse\u2028battery", "correct horse battery\uFFFF", "correct horse battery\U000E0080"}},
		{single, password.ReasonCombining, "password_invalid", []string{"\u0301correct horse battery",
			"cor\u0301\u0302\u0303\u0304\u0305\u0306rect horse battery"}},
		// Listed: in other cases, with spaces, fullwidth, with digits or
		// symbols at the ends, said twice, repeated, runs.
		{multi, password.ReasonBlocklisted, "password_blocklisted", []string{"password", "  PassWord ", "ｐａｓｓｗｏｒｄ",
			"!!baseball2024!", "987654321"}},
		{single, password.ReasonBlocklisted, "password_blocklisted", []string{"password1234567", "1qaz2wsx3edc4rfv",
			"baseballbaseball", "abcabcabcabcabc", "aaaaaaaaaaaaaaaa", "abcdefghijklmnop", "12345678901234567890"}},
		// Context: the username (any case, spaces), the email, its local
		// part, the app's name, each with digits or symbols at the ends.
		{multi, password.ReasonContext, "password_context", []string{"alice_wonder", " ALICE_WONDER  ", "alice.walker",
			"GATEHOUSE", "gatehouse2026!"}},
		{single, password.ReasonContext, "password_context", []string{"alice.walker@example.com", "Alice.Walker1234567"}},
	} {
		for _, pw := range g.pws {
			name := pw
			if len(name) > 40 {
				name = name[:40]
			}
			t.Run(fmt.Sprintf("%s/%q", g.code, name), func(t *testing.T) {
				checkOne(t, g.policy, pw, g.reason, g.code, related)
			})
		}
	}
}

// TestPolicyRefusesLongFormsOfShortCommonPasswords: a common password of
// 4 to 7 characters padded at its ends or said again and again, a listed
// word with a symbol said again, and digit runs wrapping from 9 to 0 are
// refused at 15 characters (review 17: the list kept only entries of 8+
// characters, so "monkey123456789" passed).
func TestPolicyRefusesLongFormsOfShortCommonPasswords(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{})
	for _, pw := range []string{
		"monkey123456789", "qwerty123456789", "dragon!!!!!!!!!", "letmein12345678", "welcome123456789",
		"monkeymonkeymonkey", "qwertyqwertyqwerty", "dragondragondragon", "shadowshadowshadow",
		"abc123abc123abc123", "12345123451234512345", "abcdeabcdeabcde", "master2024master2024",
		"letmeinletmeinletmein", "123456789012345", "1234567890123456", "0123456789876543210",
		"P@ssw0rd!P@ssw0rd!", "Summer2024Summer2024",
	} {
		checkOne(t, p, pw, password.ReasonBlocklisted, "password_blocklisted", nil)
	}
}

// TestPolicySeesThroughInvisibleCharacters: a listed password with
// characters that show nothing inside it (zero-width space, joiners, soft
// hyphen, word joiner, variation selectors, combining grapheme joiner) or
// spelt out with spaces is listed; bidirectional controls, which make a
// password look like another, are refused outright; and format characters
// do not count toward the minimum length (review 17).
func TestPolicySeesThroughInvisibleCharacters(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{})
	between := func(s, ins string) string { return strings.Join(strings.Split(s, ""), ins) }
	for _, pw := range []string{
		between("password", "\u200b") + "1234567", between("password", "\u200d") + "1234567",
		between("password", "\u200c") + "1234567", between("password", "\u00ad") + "1234567",
		between("password", "\u2060") + "1234567", between("baseball", "\ufe0f"),
		between("password", "\u034f"), "p a s s w o r d", "i love you 12345", "ｐａｓｓ\u200bｗｏｒｄ1234567",
	} {
		checkOne(t, p, pw, password.ReasonBlocklisted, "password_blocklisted", nil)
	}
	for _, pw := range []string{"pass\u202eword\u202c1234567", "correct horse\u200ebattery", "correct horse\u2066battery\u2069",
		"correct horse battery\u061c"} {
		checkOne(t, p, pw, password.ReasonControl, "password_invalid", nil)
	}
	for _, pw := range []string{"a" + strings.Repeat("\u200b", 14), "x" + strings.Repeat("\u2060", 14), between("password", "\u200b"),
		"\U0001F600" + strings.Repeat("\ufe0f\u200d", 7)} {
		checkOne(t, p, pw, password.ReasonTooShort, "password_too_short", nil)
	}
	if got := password.Fold("Pa\u00adss\u200bWo\ufe0frd\u2060"); got != "password" {
		t.Errorf("Fold = %q, want %q", got, "password")
	}
}

// TestPolicyRefusesDerivativesOfContextWords: a context word with its own
// digits padded, said again, an address's local part without its +tag or
// dots, the address with other punctuation, and a Turkish capital İ are
// the context word (review 17).
func TestPolicyRefusesDerivativesOfContextWords(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{})
	for _, c := range []struct{ pw, related string }{
		{"john1990!!!!!!!", "john1990"},
		{"john1990john1990", "john1990"},
		{"alice.smith.alice.smith", "alice.smith@example.com"},
		{"zorblaxquentin99", "zorblaxquentin+news@example.com"},
		{"zorblaxquentin99", "zorblax.quentin@example.com"},
		{"JohnSmith@example.com", "john.smith@example.com"},
		{"ilkerdemir12345!", "İLKERDEMİR"},
		{"ILKERDEMIR12345!", "ılkerdemır"},
	} {
		checkOne(t, p, c.pw, password.ReasonContext, "password_context", []string{c.related})
	}
	// Containing a context word is still allowed.
	if err := p.Check(context.Background(), "john likes long walks", "john1990"); err != nil {
		t.Errorf("a passphrase containing the name refused: %v", err)
	}
}

// TestPolicyFoldsLookalikes: fullwidth, upper case, long s, mathematical
// bold, circled letters, ligatures and no-break spaces at the end fold to
// the listed word.
func TestPolicyFoldsLookalikes(t *testing.T) {
	p := mustPolicy(t, password.PolicyConfig{})
	for _, pw := range []string{"ｐａｓｓｗｏｒｄ１２３４５６７", "PASSWORD1234567", "pa\u017fsword1234567",
		"𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝1234567", "ⓟⓐⓢⓢⓦⓞⓡⓓ1234567", "\uFB01rebird12345678", "FOOTBALL\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0\u00a0"} {
		checkOne(t, p, pw, password.ReasonBlocklisted, "password_blocklisted", nil)
	}
}

func checkOne(t *testing.T, policy *password.Policy, pw string, reason password.Reason, code string, related []string) {
	err := policy.Check(context.Background(), pw, related...)
	if reason == "" {
		if err != nil {
			t.Fatalf("Check(%q) = %v, want nil", pw, err)
		}
		return
	}
	var pe *password.PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("Check(%q) = %v, want a *PolicyError", pw, err)
	}
	if pe.Reason != reason {
		t.Errorf("reason %q, want %q", pe.Reason, reason)
	}
	p := problem.Of(err)
	if p.Status != http.StatusBadRequest || p.Code != code || p.Field != "password" || p.Message == "" {
		t.Errorf("problem %+v, want 400 %s on the field password", p, code)
	}
	if len(pw) > 8 && strings.Contains(p.Message, pw) {
		t.Errorf("the message %q repeats the password", p.Message)
	}
}

// TestPolicyCountsComposed: 64 characters sent fully decomposed (Greek
// letters with breathing, accent and iota subscript, four code points
// each) are 64 characters, not too long.
func TestPolicyCountsComposed(t *testing.T) {
	greek := []string{"\u03b1\u0314\u0342\u0345", "\u03b7\u0314\u0342\u0345", "\u03c9\u0314\u0342\u0345"}
	var b strings.Builder
	for i := range 64 {
		if i%4 == 3 {
			b.WriteRune(rune('a' + i/4))
		} else {
			b.WriteString(greek[i%3])
		}
	}
	pw := b.String()
	if n := utf8.RuneCountInString(pw); n <= 3*64 {
		t.Fatalf("the test password has only %d code points", n)
	}
	if err := mustPolicy(t, password.PolicyConfig{}).Check(context.Background(), pw); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := mustPolicy(t, password.PolicyConfig{}).Check(context.Background(), pw+"x"); problem.Of(err).Code != "password_too_long" {
		t.Errorf("65 characters: %v", err)
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
