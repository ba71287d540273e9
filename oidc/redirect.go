package oidc

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// checkNext returns next if it may be a post-login target: empty, or a
// path or URL in Config.RedirectAllowlist. Besides the exact match, it
// refuses anything a browser might read as another site before the
// comparison could be fooled: scheme-relative "//host", backslashes
// (browsers read "/\host" as "//host"), control characters and spaces,
// percent-encoded slashes, backslashes, dots or controls anywhere (a
// query needs none), and userinfo.
func (rp *RP) checkNext(next string) (string, error) {
	if next == "" {
		return "", nil
	}
	if len(next) > maxNext {
		return "", fmt.Errorf("%w: %d bytes", ErrRedirectNotAllowed, len(next))
	}
	u, err := safeTarget(next)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrRedirectNotAllowed, next, err)
	}
	target := u.Path
	if u.IsAbs() {
		target = u.Scheme + "://" + u.Host + u.Path
	}
	if !slices.Contains(rp.cfg.RedirectAllowlist, target) {
		return "", fmt.Errorf("%w: %q is not in the allowlist", ErrRedirectNotAllowed, next)
	}
	// The fragment never reaches the server; drop it rather than carry it.
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// safeTarget parses s and refuses what could leave the site by a
// browser's reading of it.
func safeTarget(s string) (*url.URL, error) {
	for _, c := range s {
		if c < 0x21 || c == 0x7f || c == '\\' {
			return nil, fmt.Errorf("control character, space or backslash")
		}
	}
	low := strings.ToLower(s)
	for _, bad := range []string{"%2f", "%5c", "%2e", "%00", "%09", "%0a", "%0d"} {
		if strings.Contains(low, bad) {
			return nil, fmt.Errorf("encoded %s", bad)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Opaque != "" || u.User != nil:
		return nil, fmt.Errorf("opaque or userinfo")
	case u.IsAbs():
		if u.Scheme != "https" && !(u.Scheme == "http" && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1")) {
			return nil, fmt.Errorf("scheme %q", u.Scheme)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("no host")
		}
	case u.Host != "" || strings.HasPrefix(s, "//"):
		return nil, fmt.Errorf("scheme-relative")
	case !strings.HasPrefix(u.Path, "/"):
		return nil, fmt.Errorf("not an absolute path")
	}
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// checkAllowEntry checks one Config.RedirectAllowlist entry: a path or an
// absolute URL, without query or fragment, that safeTarget accepts.
func checkAllowEntry(a string) error {
	u, err := safeTarget(a)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(a, "?") {
		return fmt.Errorf("oidc: Config.RedirectAllowlist entry %q: want a path such as /home or an https URL, without query", a)
	}
	target := u.Path
	if u.IsAbs() {
		target = u.Scheme + "://" + u.Host + u.Path
	}
	if target != a {
		return fmt.Errorf("oidc: Config.RedirectAllowlist entry %q: write it as %q", a, target)
	}
	return nil
}
