package account

import "net/http"

// The sentences the pages show. Codes come from the shared error table
// (docs/errors.md) and from the ?done= of a redirect; a code without a
// sentence is shown as the generic one, never as itself: the query is
// the visitor's to change.

// errorSentences maps an error code to what a page says. A page may say
// it otherwise (pageErrors).
var errorSentences = map[string]string{
	"invalid_credentials":              "That login and password do not match. Check them and try again.",
	"unknown_user":                     "That login and password do not match. Check them and try again.",
	"inactive":                         "This account has been deactivated.",
	"unconfirmed":                      "Your email address is not confirmed yet. Follow the link in the message we sent you, then log in. If the link expired, reset your password: that confirms your address too.",
	"locked":                           "Too many failed attempts. The account is locked for a while; try again later.",
	"missing_field":                    "Please fill in every field.",
	"invalid_field":                    "Please check what you entered.",
	"rate_limited":                     "Too many attempts. Please wait a little and try again.",
	"cross_origin":                     "This form was sent from another site, so it was refused. Open the page again and retry.",
	"password_too_short":               "That password is too short. A few words make a long password that is easy to remember.",
	"password_too_long":                "That password is too long.",
	"password_invalid":                 "That password contains characters that cannot be used.",
	"password_blocklisted":             "That password is too common. Choose one that is harder to guess.",
	"password_context":                 "That password is too close to your name or email address.",
	"password_breached":                "That password has appeared in a data breach. Choose another.",
	"breach_check_unavailable":         "That password could not be checked just now. Please try again in a minute.",
	"busy":                             "The server is busy. Please try again in a moment.",
	"missing_token":                    "Please log in.",
	"invalid_token":                    "Your session has ended. Please log in again.",
	"token_reused":                     "Your session has ended. Please log in again.",
	"wrong_project":                    "Your session is for another part of this site. Please log in again.",
	"store_unavailable":                "The service is unavailable just now. Please try again shortly.",
	"store_full":                       "The service is unavailable just now. Please try again shortly.",
	"no_client_address":                "Your request could not be handled.",
	"invalid_forwarded":                "Your request could not be handled.",
	"malformed_body":                   "The form could not be read. Please try again.",
	"body_too_large":                   "The form was too large.",
	"unsupported_media_type":           "The form could not be read. Please try again.",
	"invalid_link":                     "This link is invalid, has expired or has been used already.",
	"already_confirmed":                "Your email address is already confirmed.",
	"taken":                            "That address belongs to another account.",
	"no_session":                       "That session has already ended.",
	"no_device":                        "That device was already signed out.",
	"not_found":                        "There is no page at this address.",
	"method_not_allowed":               "This page cannot do that.",
	"not_supported":                    "This site does not offer that.",
	"password_required":                "Please enter your password.",
	"malformed_code":                   "That is not a code: a code of your app is 6 digits, a recovery code 16 letters and digits.",
	"invalid_code":                     "That code is not right. Check the code your app shows now and try again.",
	"code_reused":                      "That code was used already. Wait for your app to show the next one, then enter it.",
	"mfa_locked":                       "Too many wrong codes. Two-step verification is locked for a while; try again later.",
	"not_enrolled":                     "Two-step verification is not set up, or the setup took too long. Start again.",
	"already_enrolled":                 "An authenticator app is already set up. Remove it first to set up another.",
	"second_factor_required":           "Enter the code of your authenticator app to finish logging in.",
	"insufficient_user_authentication": "This session did not pass two-step verification: enter a code of your app, or a recovery code, as well.",
	// Passkeys (Config.Passkeys).
	"malformed_response":         "The passkey's answer could not be read. Please try again.",
	"response_too_large":         "The passkey's answer was too large.",
	"invalid_challenge":          "The passkey request expired or was used already. Please try again.",
	"invalid_credential":         "That passkey could not be verified. Please try again.",
	"unknown_credential":         "That passkey is not registered for this account. Use another, or your password.",
	"user_verification_required": "Your passkey must check it is you, with a PIN, fingerprint or face.",
	"unsupported_algorithm":      "That passkey uses a kind of key this site does not accept.",
	"passkey_limit":              "Your account has as many passkeys as it may. Remove one first.",
	"passkey_exists":             "That passkey is registered already.",
	"clone_detected":             "That passkey may have been copied, so it was refused. Use another, or contact support.",
	"passkey_not_found":          "That passkey is not registered for this account.",
	"invalid_nickname":           "That name is too long or has characters that cannot be used.",
	// Social login (Config.OIDC).
	"link_required":        "An account with this email address exists already. Log in to it with your password, then link this provider from Linked accounts.",
	"email_unverified":     "Your login provider did not confirm your email address. Confirm it there, or sign up with a password.",
	"identity_linked":      "That provider account is already linked to another account here.",
	"last_login_method":    "This is your only way to log in: set a password (reset it from the login page) or link another provider first.",
	"no_identity":          "That provider account is not linked to yours.",
	"invalid_callback":     "The login could not be completed. Please start again.",
	"invalid_state":        "The login expired or was started in another browser. Please start again.",
	"provider_error":       "The login provider did not complete the login.",
	"issuer_mismatch":      "The login came back from another provider. Please start again.",
	"code_rejected":        "The login provider refused the login. Please start again.",
	"invalid_id_token":     "The login provider's answer could not be verified. Please start again.",
	"provider_unavailable": "The login provider is not available just now. Please try again later.",
	"unknown_provider":     "This site does not offer that login provider.",
	"redirect_not_allowed": "The page to return to after login is not allowed.",
}

// pageErrors are the sentences of one page that differ from the table's.
var pageErrors = map[string]map[string]string{
	"reset": {
		"invalid_token": "This reset link is invalid, has expired or has been used already. Ask for a new one below.",
		"missing_field": "Please enter a new password.",
	},
	"confirm": {
		"missing_field": "This link is invalid, has expired or has been used already.",
	},
	"password":   {"invalid_credentials": "Your current password is not right."},
	"email":      {"invalid_credentials": "That password is not right."},
	"delete":     {"invalid_credentials": "That password is not right."},
	"identities": {"invalid_credentials": "That password is not right."},
	"security": {
		"invalid_credentials": "That password is not right.",
		"not_enrolled":        "The setup took too long, or was replaced. Start again.",
	},
	"second": {
		"invalid_code":  "That code is not right. Check it and try again.",
		"rate_limited":  "Too many attempts from your network. Please wait a few minutes and try again.",
		"missing_field": "Please enter the code.",
	},
	"login": {
		"missing_field": "Please enter your email address or username and your password.",
		"missing_token": "Please log in.",
		// Unconfirmed accounts log in as wrong passwords (see
		// auth.Config.HideUnconfirmed): say so without saying which.
		"invalid_credentials": "That login and password do not match. If you signed up recently, confirm your address first with the link we emailed you.",
	},
}

// fieldSentences are the sentences of a missing or invalid field, by
// field name.
var fieldSentences = map[string][2]string{ // missing, invalid
	"email":            {"Please enter your email address.", "That does not look like an email address."},
	"username":         {"Please choose a username.", "That username is too long."},
	"password":         {"Please enter your password.", "Please check the password."},
	"current_password": {"Please enter your current password.", "Please check your current password."},
	"new_password":     {"Please enter a new password.", "Please check the new password."},
	"token":            {"This link is incomplete. Open it again from the message.", "This link is invalid."},
	"code":             {"Please enter the code.", "Please check the code."},
	"nickname":         {"Please name the passkey.", "That name is too long or has characters that cannot be used."},
}

const genericError = "Something went wrong. Please try again."

// errorSentence is what page says of the error code (about field).
func errorSentence(page, code, field string) string {
	if s, ok := pageErrors[page][code]; ok {
		return s
	}
	if f, ok := fieldSentences[field]; ok {
		switch code {
		case "missing_field", "password_required":
			return f[0]
		case "invalid_field":
			return f[1]
		}
	}
	if s, ok := errorSentences[code]; ok {
		return s
	}
	return genericError
}

// notices are the sentences of the ?done= codes the pages redirect with.
var notices = map[string]string{
	"logged_out":            "You have logged out.",
	"logged_out_everywhere": "You have logged out on every device.",
	"email_confirmed":       "Thank you: your email address is confirmed.",
	"password_reset":        "Your password has been changed. Log in with the new one.",
	"password_changed":      "Your password has been changed, and your other sessions logged out.",
	"session_revoked":       "That session has been logged out.",
	"others_revoked":        "Every other session has been logged out.",
	"device_revoked":        "That device has been signed out.",
	"account_deleted":       "Your account has been deleted.",
	"totp_enabled":          "Two-step verification is on: from now on, logging in asks for a code of your app.",
	"totp_removed":          "Your authenticator app has been removed: logging in asks for your password only.",
	"recovery_codes_made":   "Here are your new recovery codes. The old ones no longer work.",
	"passkey_added":         "Your passkey has been added: you can log in with it.",
	"passkey_renamed":       "Your passkey has been renamed.",
	"passkey_removed":       "Your passkey has been removed.",
	"identity_linked":       "The provider is linked: you can log in with it.",
	"identity_unlinked":     "The provider is unlinked: it no longer logs in to your account.",
}

// setNotice sets the sentence and the code of the request's ?done=, when
// it is one of notices.
func (d *PageData) setNotice(r *http.Request) {
	code := r.URL.Query().Get("done")
	if s, ok := notices[code]; ok {
		d.Notice, d.NoticeCode = s, code
	}
}
