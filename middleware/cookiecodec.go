package middleware

// The session cookie's value: what it holds ([sessionCookie]), how that is
// written as bytes, and the codec that authenticates them.
//
// The codec is gorilla/securecookie, used directly: it signs "name|time|
// value" with HMAC-SHA256, optionally encrypts the value with AES-CTR, and
// refuses values over 4096 bytes. gorilla/sessions' Store is not used
// (its Options and NewCookie build the Set-Cookie, in cookies.go): it would
// wrap the same codec in a per-request registry and a map[any]any
// serialized with gob (about 190 allocations per request in bench/), and
// none of it is what the guard needs, which is one typed value read on
// every request.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/gorilla/securecookie"
)

// sessionCookie is what the session cookie holds. A decoded value may be
// shared by concurrent requests (see [verifiedCookies]), so it is never
// changed in place: change a clone.
type sessionCookie struct {
	// Tokens maps each project the browser holds a session for to that
	// session's token. "" is a project like any other.
	Tokens map[string]string
	// End is when the cookie should expire: the latest end of its
	// sessions, to the second.
	End time.Time
}

// token returns the project's session token, or "". s may be nil.
func (s *sessionCookie) token(project string) string {
	if s == nil {
		return ""
	}
	return s.Tokens[project]
}

// clone returns a copy to change, never nil, with a non-nil Tokens. s may
// be nil.
func (s *sessionCookie) clone() *sessionCookie {
	c := &sessionCookie{Tokens: map[string]string{}}
	if s != nil {
		maps.Copy(c.Tokens, s.Tokens)
		c.End = s.End
	}
	return c
}

// cookieFormat is the first byte of every encoded value. Values written
// before it (a gob-free map of "p:"-prefixed projects and an "end" key)
// started with a length of at least 2, so they are refused, not misread.
const cookieFormat = 1

// appendBinary appends the format byte, End in Unix seconds (varint), then
// each project and its token, each as a uvarint length and its bytes.
func (s *sessionCookie) appendBinary(b []byte) []byte {
	b = append(b, cookieFormat)
	b = binary.AppendVarint(b, s.End.Unix())
	for project, token := range s.Tokens {
		b = binary.AppendUvarint(b, uint64(len(project)))
		b = append(b, project...)
		b = binary.AppendUvarint(b, uint64(len(token)))
		b = append(b, token...)
	}
	return b
}

var errMalformedCookie = errors.New("middleware: malformed session cookie")

// decode reads what appendBinary wrote into s. It refuses anything else:
// another format, a truncated length or string, a project given twice.
func (s *sessionCookie) decode(b []byte) error {
	if len(b) == 0 || b[0] != cookieFormat {
		return errMalformedCookie
	}
	end, n := binary.Varint(b[1:])
	if n <= 0 {
		return errMalformedCookie
	}
	b = b[1+n:]
	str := string(b) // one string that the projects and tokens slice
	tokens := make(map[string]string, 1)
	for off := 0; off < len(b); {
		var pair [2]string
		for i := range pair {
			l, n := binary.Uvarint(b[off:])
			if n <= 0 || l > uint64(len(b)-off-n) {
				return errMalformedCookie
			}
			off += n
			pair[i] = str[off : off+int(l)]
			off += int(l)
		}
		if _, dup := tokens[pair[0]]; dup {
			return errMalformedCookie
		}
		tokens[pair[0]] = pair[1]
	}
	*s = sessionCookie{Tokens: tokens, End: time.Unix(end, 0)}
	return nil
}

// newCookieCodec returns the codec for the keys NewCookies checked. Its
// own timestamp check is off: the store's records decide when a session
// ends, and the check would only cut sessions longer than its default.
func newCookieCodec(hashKey, blockKey []byte) *securecookie.SecureCookie {
	if len(blockKey) == 0 {
		blockKey = nil // securecookie encrypts with any non-nil key
	}
	sc := securecookie.New(hashKey, blockKey)
	sc.MaxAge(0)
	sc.SetSerializer(cookieSerializer{})
	return sc
}

// cookieSerializer is the securecookie.Serializer of *sessionCookie.
// securecookie's default, gob, costs about 200 allocations per decode;
// this costs three (the value, its map, one string).
type cookieSerializer struct{}

func (cookieSerializer) Serialize(src any) ([]byte, error) {
	s, ok := src.(*sessionCookie)
	if !ok {
		return nil, fmt.Errorf("middleware: cannot serialize %T into the session cookie", src)
	}
	return s.appendBinary(nil), nil
}

func (cookieSerializer) Deserialize(src []byte, dst any) error {
	s, ok := dst.(*sessionCookie)
	if !ok {
		return fmt.Errorf("middleware: cannot deserialize the session cookie into %T", dst)
	}
	return s.decode(src)
}
