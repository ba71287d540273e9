// Package password hashes and checks passwords, and bounds how many checks
// run at once.
//
// [Bcrypt] is the default [Hasher]: passwords over [MaxBytes] (bcrypt's
// limit) are refused with [ErrTooLong], never silently truncated. A
// [Gate] runs hashes in a fixed number of slots so that a flood of logins
// always leaves cores for the rest of the app; a check that waits too long
// for a slot is answered [ErrBusy].
//
// The package imports nothing of gatehouse's but package problem, so that
// apps creating users, and tools importing hashes, need nothing else.
package password
