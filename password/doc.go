// Package password checks new passwords against a policy, hashes and
// checks passwords, and bounds how many checks run at once.
//
// A [Policy] (made by [NewPolicy]; the zero [PolicyConfig] is NIST SP
// 800-63B revision 4's policy for a password that is the only factor)
// checks a new password at sign-up, reset and change: 15 to 64
// characters (8 with a second factor), any printable Unicode, no
// composition rules, not on the [CommonPasswords] blocklist, not the
// user's name or email. A refusal is a [*PolicyError], a 400 whose code
// says which rule. [Normalize] (Unicode NFC) is applied to every password
// before it is hashed or compared, at sign-up and at login alike.
//
// [Bcrypt] is the default [Hasher]: passwords over [MaxBytes] (bcrypt's
// limit) are refused with [ErrTooLong], never silently truncated.
// [Argon2id] (OWASP's first choice, at OWASP's settings) takes passwords
// up to [MaxPassphraseBytes]; [MaxLen] and [CheckLen] tell a caller the
// limit of whichever Hasher it has. A stored hash is data: [Limits] bound
// the memory and work one may ask of a check, and a hash over them is not
// read (a [*HashError] says why).
//
// [Importing] is the Hasher for users brought from another system: it
// hashes with a primary (Argon2id or bcrypt) and checks the hashes other
// systems write (bcrypt, Argon2id and Argon2i, scrypt, PBKDF2 in passlib's,
// go-crypt's, RustCrypto's and Django's forms), asking for a rehash of any
// hash not the primary's, so that each user moves to it at their next
// login. [Importing.Identify] tells an app, before it switches, which rows
// no one will be able to log in to, and why.
//
// A [Scheduler] runs hashes in a fixed number of slots so that a flood of
// logins always leaves cores for the rest of the app; a check that waits
// too long for a slot is answered [ErrBusy]. An Argon2id check holds its
// memory (19 MiB by default) for as long as it runs, so the slots bound
// the hashing memory too.
//
// The package imports nothing of gatehouse's but package problem, so that
// apps creating users, and tools importing hashes, need nothing else.
package password
