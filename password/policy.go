package password

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The rules below are those of NIST SP 800-63B revision 4 (2025), §3.1.1.2
// "Password Verifiers", unless a doc comment names another section.

const (
	// MinLength is the shortest password a Policy accepts when the
	// password is the only factor: 15 characters. SP 800-63B-4 §3.1.1.2
	// item 1: verifiers SHALL require passwords used as a single-factor
	// authentication mechanism to be at least 15 characters long.
	MinLength = 15
	// MinLengthMultiFactor is the shortest password a Policy accepts when
	// every login also needs a second factor
	// (PolicyConfig.MultiFactor): 8 characters. SP 800-63B-4 §3.1.1.2
	// item 1: passwords only used as part of multi-factor authentication
	// MAY be shorter than 15 but SHALL be at least 8 characters. It is
	// also the lowest PolicyConfig.MinLength that NewPolicy accepts.
	MinLengthMultiFactor = 8
	// MaxLength is the longest password a Policy accepts by default: 64
	// characters. SP 800-63B-4 §3.1.1.2 item 2: verifiers SHOULD permit
	// at least 64; NewPolicy refuses a lower maximum. Appendix A: a limit
	// keeps megabyte-long passwords from costing hashing time.
	MaxLength = 64
	// MaxLengthLimit is the highest PolicyConfig.MaxLength NewPolicy
	// accepts: 1024 characters.
	MaxLengthLimit = 1024
	// maxMarks is the most combining marks (Unicode categories Mn and Me)
	// a password may stack on one character: no script needs more, and a
	// password of one letter under forty accents would otherwise count as
	// forty characters.
	maxMarks = 4
)

// PolicyConfig configures a [Policy]. The zero PolicyConfig is the policy
// of SP 800-63B-4 for a password that is the only factor: 15 to 64
// characters, any printable Unicode, no composition rules, the bundled
// blocklist.
type PolicyConfig struct {
	// MultiFactor says every login with these passwords also needs a
	// second factor, so the minimum length drops from MinLength (15) to
	// MinLengthMultiFactor (8) (SP 800-63B-4 §3.1.1.2 item 1). Default
	// false: the password is taken to be the only factor.
	MultiFactor bool
	// MinLength is the shortest password in characters (Unicode code
	// points, counted after normalisation); default 15, or 8 with
	// MultiFactor. NewPolicy refuses one below 8 (§3.1.1.2 item 1), and
	// one below 15 without MultiFactor.
	MinLength int
	// MaxLength is the longest password in characters; default 64.
	// NewPolicy refuses one below 64 (§3.1.1.2 item 2) or above
	// MaxLengthLimit. A hasher may have a limit of its own in bytes
	// (bcrypt's 72, see MaxBytes).
	MaxLength int
	// Blocklist is the list of passwords refused whatever their length
	// (§3.1.1.2: verifiers SHALL compare new passwords against a
	// blocklist of commonly used, expected or compromised values);
	// default CommonPasswords(). Extra words of the app's own can be
	// added with Words.
	Blocklist Blocklist
	// WithoutBlocklist turns the blocklist off, which SP 800-63B-4 does
	// not allow; for tests and tools that import existing passwords.
	WithoutBlocklist bool
	// Words are context words refused as passwords for everybody, such
	// as the app's name and its domain (§3.1.1.2: "context-specific
	// words, such as the name of the service"). See Policy.Check for how
	// they are compared.
	Words []string
	// Breached, when set, is asked about a password that passed every
	// other rule: a password it knows from a breach is refused (§3.1.1.2:
	// "passwords obtained from previous breach corpuses"). The
	// password/pwned package has one for the Have I Been Pwned range API.
	// An error from it fails the check (see BreachChecker).
	Breached BreachChecker
}

// BreachChecker tells whether a password is known from a breach.
// Implementations are safe for concurrent use.
type BreachChecker interface {
	// Breached reports whether password (normalised by Normalize) is
	// known from a breach. When it cannot tell, it returns an error, and
	// Policy.Check returns that error (wrapped): a checker that should
	// fail open answers false, nil instead, and reports its failure some
	// other way (pwned.Checker logs it).
	Breached(ctx context.Context, password string) (bool, error)
}

// Policy checks new passwords: at sign-up, reset and change, not at login
// (a login compares whatever is typed with the stored hash). Make one with
// NewPolicy; a Policy is safe for concurrent use.
type Policy struct {
	min, max  int
	blocklist Blocklist
	short     Blocklist // the bundled list's shorter entries, with the bundled list
	words     []string
	breached  BreachChecker
}

// NewPolicy checks cfg and returns a Policy.
func NewPolicy(cfg PolicyConfig) (*Policy, error) {
	p := &Policy{min: cfg.MinLength, max: cfg.MaxLength, blocklist: cfg.Blocklist, breached: cfg.Breached}
	floor := MinLength
	if cfg.MultiFactor {
		floor = MinLengthMultiFactor
	}
	switch {
	case p.min == 0:
		p.min = floor
	case p.min < floor && !cfg.MultiFactor:
		return nil, fmt.Errorf("password: MinLength %d is below %d, SP 800-63B-4's minimum for a password that is the only factor (set MultiFactor when every login needs a second factor)", p.min, floor)
	case p.min < floor:
		return nil, fmt.Errorf("password: MinLength %d is below %d, SP 800-63B-4's minimum for any password", p.min, floor)
	}
	switch {
	case p.max == 0:
		p.max = MaxLength
	case p.max < MaxLength:
		return nil, fmt.Errorf("password: MaxLength %d is below %d, the longest password SP 800-63B-4 asks verifiers to permit", p.max, MaxLength)
	case p.max > MaxLengthLimit:
		return nil, fmt.Errorf("password: MaxLength %d is above %d", p.max, MaxLengthLimit)
	}
	if p.min > p.max {
		return nil, fmt.Errorf("password: MinLength %d is above MaxLength %d", p.min, p.max)
	}
	switch {
	case cfg.WithoutBlocklist && cfg.Blocklist != nil:
		return nil, errors.New("password: both Blocklist and WithoutBlocklist are set")
	case cfg.WithoutBlocklist:
		p.blocklist = nil
	case p.blocklist == nil:
		p.blocklist, p.short = CommonPasswords(), short
	}
	p.words = contextWords(cfg.Words)
	return p, nil
}

// MinLength returns the shortest password p accepts, in characters.
func (p *Policy) MinLength() int { return p.min }

// MaxLength returns the longest password p accepts, in characters.
func (p *Policy) MaxLength() int { return p.max }

// Check returns nil when password may be set as a new password, and a
// *PolicyError saying why not otherwise (or the BreachChecker's error).
// related are context words of this user, refused as passwords (§3.1.1.2:
// "the username, and derivatives thereof"): pass the username, the email
// address (its local part is taken too, with and without a +tag and
// dots) and anything else the user is known by; empty ones are skipped. A
// password is the context word when, folded, it or it without its ends,
// its letters alone, or the unit it says again and again, is the word, the
// word without its ends or the word's letters alone ("john1990!!!!!!!",
// "john1990john1990" and "JohnSmith@example.com" for "john1990" and
// "john.smith@example.com").
//
// The password is first checked as sent (valid UTF-8, no control
// characters), then normalised with Normalize, and its characters are
// counted after that. In order it must be:
//
//   - valid UTF-8 with no control characters (NUL, tab, newline and the
//     rest of Unicode's Cc), bidirectional controls (U+202E and the
//     others, which make a password look like another), line or paragraph
//     separators, surrogates, noncharacters or unassigned code points;
//     every other character, printable ASCII, the space and all of
//     Unicode, is accepted (§3.1.1.2 items 3 and 4);
//   - not empty, and at most MaxLength characters, each code point
//     counting as one (§3.1.1.2 item 4);
//   - without a combining mark at its start or more than four stacked on
//     one character (they would count as characters without adding any);
//   - at least MinLength characters, not counting format characters
//     (Unicode's Cf: zero-width space, joiners, soft hyphen), which show
//     nothing (§3.1.1.2 item 1);
//   - not a context word, and not on the blocklist: compared as folded by
//     Fold (compatibility forms, case, surrounding spaces and characters
//     that show nothing do not matter), whole and also without the
//     digits, punctuation, symbols and spaces at its two ends, so
//     "Password2024!" counts as "password", and, for the blocklist, also
//     without its spaces ("p a s s w o r d"). A listed word or a short string said again and again
//     ("passwordpassword", "abcabcabcabcabc", "Summer2024Summer2024"),
//     and a run of one character or of consecutive ones ("aaaaaaaa",
//     "123456789", "1234567890123456"), count as listed. With the bundled
//     blocklist, what is left without the ends and the unit said again
//     and again are also looked up among its entries of 4 to 7
//     characters, so "monkey123456789" and "dragon!!!!!!!!!" count as
//     listed.
//     A password that merely contains a listed word or a context word is
//     accepted: §3.1.1.2 compares the entire password, not substrings;
//   - not known to the BreachChecker, when there is one.
//
// No composition rule (a digit, a capital, a symbol) is imposed (§3.1.1.2
// item 5).
func (p *Policy) Check(ctx context.Context, password string, related ...string) error {
	if err := checkCharacters(password); err != nil {
		return err
	}
	// NFC can at most quarter a string's code points (the longest
	// canonical decomposition, such as U+1F87's, is four): past that the
	// password is too long whatever it normalises to, and is refused
	// before the cost of normalising it.
	if utf8.RuneCountInString(password) > 4*p.max {
		return p.errLength(ReasonTooLong)
	}
	pw := Normalize(password)
	n := utf8.RuneCountInString(pw)
	switch {
	case n == 0:
		return p.errLength(ReasonEmpty)
	case n > p.max:
		return p.errLength(ReasonTooLong)
	}
	if err := checkMarks(pw); err != nil {
		return err
	}
	if visible(pw) < p.min {
		return p.errLength(ReasonTooShort)
	}
	key := Fold(pw)
	bare := trimEnds(key)
	forms := contextForms(key, bare)
	for _, words := range [][]string{p.words, contextWords(related)} {
		for _, w := range words {
			if slices.Contains(forms, w) {
				return &PolicyError{Reason: ReasonContext, Min: p.min, Max: p.max}
			}
		}
	}
	if p.blocked(key, bare) {
		return &PolicyError{Reason: ReasonBlocklisted, Min: p.min, Max: p.max}
	}
	if joined := withoutSpaces(key); joined != key && p.blocked(joined, trimEnds(joined)) {
		return &PolicyError{Reason: ReasonBlocklisted, Min: p.min, Max: p.max}
	}
	if p.breached != nil {
		found, err := p.breached.Breached(ctx, pw)
		if err != nil {
			return fmt.Errorf("password: breach check: %w", err)
		}
		if found {
			return &PolicyError{Reason: ReasonBreached, Min: p.min, Max: p.max}
		}
	}
	return nil
}

// blocked reports whether a folded password key, or bare (key without its
// ends), counts as listed, or key is a run.
func (p *Policy) blocked(key, bare string) bool {
	return p.listed(key) || (bare != key && bare != "" && (p.listed(bare) || p.listedShort(bare))) || sequence(key)
}

// withoutSpaces is s without its white space: "p a s s w o r d" is
// "password" spelt out.
func withoutSpaces(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// visible counts the characters of s that are not format characters
// (Unicode's Cf: zero-width space, joiners, word joiner, soft hyphen),
// which show nothing and must not make up a password's length.
func visible(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.Is(unicode.Cf, r) {
			n++
		}
	}
	return n
}

// listed reports whether a folded password is on the blocklist, or is one
// word of it, or a short string, said again and again ("passwordpassword",
// "abcabcabcabcabc", "Summer2024Summer2024"): the "expected" values of
// §3.1.1.2.
func (p *Policy) listed(key string) bool {
	if p.blocklist == nil {
		return false
	}
	if p.blocklist.Contains(key) {
		return true
	}
	if unit, ok := repeated(key); ok {
		return p.listedUnit(unit) || p.listedUnit(trimEnds(unit))
	}
	return false
}

// listedUnit reports whether unit, which a password repeats, is a string
// short enough (four characters), a run (sequence) or on either list.
func (p *Policy) listedUnit(unit string) bool {
	if unit == "" {
		return false
	}
	return utf8.RuneCountInString(unit) <= 4 || sequence(unit) || p.blocklist.Contains(unit) || p.listedShort(unit)
}

// listedShort reports whether s is among the bundled list's entries of 4
// to 7 characters (when the blocklist is the bundled one).
func (p *Policy) listedShort(s string) bool {
	return p.short != nil && p.short.Contains(s)
}

// repeated returns the shortest unit that key is two or more copies of.
func repeated(key string) (string, bool) {
	for n := 1; n <= len(key)/2; n++ {
		if len(key)%n == 0 && strings.Repeat(key[:n], len(key)/n) == key {
			return key[:n], utf8.ValidString(key[:n])
		}
	}
	return "", false
}

// sequence reports whether key is one character repeated, or a run of
// consecutive ones going up or down, or both in turn ("aaaaaaaa",
// "abcdefgh", "98765432", "0123456789876543210"): the repetitive and
// sequential passwords a blocklist is for. Digits count modulo 10, as on
// a keyboard's row: "1234567890123456" is a run.
func sequence(key string) bool {
	var prev rune
	same := false
	n := 0
	for _, r := range key {
		if n > 0 {
			step := r - prev
			if isDigit(r) && isDigit(prev) {
				switch step {
				case -9:
					step = 1
				case 9:
					step = -1
				}
			}
			switch {
			case n == 1:
				same = step == 0
				if step < -1 || step > 1 {
					return false
				}
			case same != (step == 0) || step < -1 || step > 1:
				return false
			}
		}
		prev = r
		n++
	}
	return n > 1
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func (p *Policy) errLength(r Reason) error { return &PolicyError{Reason: r, Min: p.min, Max: p.max} }

// Normalize returns password in Unicode Normalization Form C (NFC), the
// form to check, hash and compare it in, so that "é" typed as one code
// point or as "e" and a combining accent is one password (SP 800-63B-4
// §3.1.1.2: verifiers SHOULD normalise Unicode passwords before hashing;
// revision 4 names NFC, where the drafts named NFKC or NFKD). NFC keeps
// the compatibility characters distinct ("Ａ" stays fullwidth), so no two
// passwords a user can tell apart become one. Call it on every password
// before hashing it, whether setting it or logging in with it; it changes
// no ASCII string. Invalid UTF-8 is passed through as it is (Check refuses
// it).
func Normalize(password string) string { return norm.NFC.String(password) }

// trimEnds strips from a folded password the digits, punctuation, symbols
// and spaces at its two ends: "password2024!" is a derivative of
// "password".
func trimEnds(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.Is(unicode.M, r) })
}

// contextForms are the forms of a folded password (key, and bare without
// its ends) compared with the context words: those two, its letters alone
// ("John.Smith@example.com" as "johnsmithexamplecom"), and the unit any of
// them repeats, with and without its ends ("john1990john1990" as
// "john1990").
func contextForms(key, bare string) []string {
	forms := []string{key}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(bare)
	add(letters(key))
	for _, f := range slices.Clone(forms) {
		if unit, ok := repeated(f); ok {
			add(unit)
			add(trimEnds(unit))
		}
	}
	return forms
}

// letters is s with only its letters and marks.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.Is(unicode.M, r) {
			return r
		}
		return -1
	}, s)
}

// contextWords folds the context words to compare with: each word, the
// word without the digits, punctuation and symbols at its ends
// ("john1990" as "john"), and its letters alone; for an email address,
// the same of its local part, of the local part without a +tag
// ("alice+news"), and without its dots ("alice.smith" as "alicesmith").
func contextWords(words []string) []string {
	out := make([]string, 0, 4*len(words))
	for _, w := range words {
		if local, _, ok := strings.Cut(w, "@"); ok {
			out = appendWord(out, local)
			untagged, _, _ := strings.Cut(local, "+")
			out = appendWord(out, untagged)
			out = appendWord(out, strings.ReplaceAll(untagged, ".", ""))
		}
		out = appendWord(out, w)
	}
	return out
}

// appendWord appends the folded forms of w to out.
func appendWord(out []string, w string) []string {
	w = Fold(w)
	for _, f := range []string{w, trimEnds(w), letters(w)} {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// checkCharacters refuses invalid UTF-8 and the characters no password
// should hold: see Policy.Check. The bidirectional controls (U+061C,
// U+200E, U+200F, U+202A to U+202E, U+2066 to U+2069) are format
// characters, but they reorder what is shown, so that a password can look
// like another: they are refused too.
func checkCharacters(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return &PolicyError{Reason: ReasonInvalidUTF8}
			}
		}
		if !allowed(r) || unicode.Is(unicode.Bidi_Control, r) {
			return &PolicyError{Reason: ReasonControl, Char: r}
		}
	}
	return nil
}

// allowed reports whether r may appear in a password: letters, marks,
// numbers, punctuation, symbols, space separators, format characters (the
// zero-width joiner of emoji and Indic scripts) and private-use
// characters, but no control characters, line or paragraph separators,
// surrogates, noncharacters or unassigned code points.
func allowed(r rune) bool {
	if r&0xFFFE == 0xFFFE || (r >= 0xFDD0 && r <= 0xFDEF) {
		return false // noncharacters
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cf, unicode.Co)
}

// checkMarks refuses a normalised password that starts with a combining
// mark or stacks more than maxMarks on one character.
func checkMarks(s string) error {
	run := 0
	for i, r := range s {
		if !unicode.In(r, unicode.Mn, unicode.Me) {
			run = 0
			continue
		}
		run++
		if i == 0 || run > maxMarks {
			return &PolicyError{Reason: ReasonCombining, Char: r}
		}
	}
	return nil
}
