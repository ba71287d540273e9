package password

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Reason is why a Policy refused a password: stable, and meant for
// programs. Each maps to one code of docs/errors.md (PolicyError.Problem).
type Reason string

// The reasons a Policy refuses a password, with the code each answers.
const (
	ReasonEmpty       Reason = "empty"                // password_too_short
	ReasonTooShort    Reason = "too_short"            // password_too_short
	ReasonTooLong     Reason = "too_long"             // password_too_long
	ReasonInvalidUTF8 Reason = "invalid_utf8"         // password_invalid
	ReasonControl     Reason = "control_character"    // password_invalid
	ReasonCombining   Reason = "combining_characters" // password_invalid
	ReasonBlocklisted Reason = "blocklisted"          // password_blocklisted
	ReasonContext     Reason = "context_word"         // password_context
	ReasonBreached    Reason = "breached"             // password_breached
)

// PolicyError is a password a Policy refused, and why. Its Problem is a
// 400 whose code says which rule, with the field "password" and a message
// that says how to choose one that passes (SP 800-63B-4 §3.1.1.2: the
// verifier SHALL give the reason for a rejection and SHALL offer guidance).
// Match it with errors.As.
type PolicyError struct {
	Reason Reason
	// Min and Max are the policy's lengths, in characters.
	Min, Max int
	// Char is the character refused, for ReasonControl and
	// ReasonCombining (part of the password: do not log it).
	Char rune
}

// Error returns the package-named text of the refusal. It holds nothing
// of the password (not even Char), so it is safe to log.
func (e *PolicyError) Error() string {
	return fmt.Sprintf("password: refused (%s)", e.Reason)
}

// Problem maps the refusal to its 400 answer.
func (e *PolicyError) Problem() problem.Error {
	code := "password_invalid"
	var msg string
	switch e.Reason {
	case ReasonEmpty:
		code = "password_too_short"
		msg = fmt.Sprintf("enter a password of at least %d characters; a few unrelated words make one easy to remember", e.Min)
	case ReasonTooShort:
		code = "password_too_short"
		msg = fmt.Sprintf("the password is shorter than %d characters; make it longer: a few unrelated words make one easy to remember", e.Min)
	case ReasonTooLong:
		code = "password_too_long"
		msg = fmt.Sprintf("the password is longer than %d characters; choose a shorter one", e.Max)
	case ReasonInvalidUTF8:
		msg = "the password is not valid text (UTF-8); type it again or choose another"
	case ReasonControl:
		msg = "the password contains a control character, line break or other invisible character that is not allowed; remove it"
	case ReasonCombining:
		msg = "the password starts with an accent or stacks too many accents on one letter; remove them"
	case ReasonBlocklisted:
		code = "password_blocklisted"
		msg = "this password is too common and among the first that attackers try; choose another, not a small change of it: a few unrelated words make a strong one"
	case ReasonContext:
		code = "password_context"
		msg = "the password is your username, email address or the name of this service; choose one that has nothing to do with them"
	case ReasonBreached:
		code = "password_breached"
		msg = "this password has appeared in a data breach, so attackers try it; choose another that you use nowhere else"
	default:
		msg = "the password is not allowed; choose another"
	}
	return problem.Error{Status: http.StatusBadRequest, Code: code, Message: msg, Field: "password"}
}
