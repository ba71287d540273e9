package password_test

import (
	"fmt"

	"github.com/gatehouse-go/gatehouse/password"
)

// Before switching an app to Importing, Identify says which rows of the
// user table it will check, and which no one will be able to log in to and
// why. It hashes nothing.
func ExampleImporting_Identify() {
	var h password.Importing // new hashes: password.Argon2id{}
	for _, hash := range []string{
		"$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
		"pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac=",
		"$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
		"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
		"sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8",
	} {
		scheme, err := h.Identify([]byte(hash))
		fmt.Printf("%-14s rehash at login: %-5v %v\n", scheme, h.NeedsRehash([]byte(hash)), err)
	}
	// Output:
	// bcrypt         rehash at login: true  <nil>
	// pbkdf2_sha256  rehash at login: true  <nil>
	// scrypt         rehash at login: true  <nil>
	// argon2id       rehash at login: true  password: argon2id hash: m=4194304,t=2,p=1 is over the limits (m ≤ 131072 KiB, t ≤ 10, p ≤ 4)
	//                rehash at login: true  password: hash: unknown scheme "sha1"
}

// An app whose users may choose long passphrases in any script hashes
// with Argon2id, and asks the hasher, not bcrypt, for the limit.
func ExampleMaxLen() {
	fmt.Println(password.MaxLen(password.Bcrypt{Cost: 10}))
	fmt.Println(password.MaxLen(password.Argon2id{}))
	fmt.Println(password.MaxLen(password.Importing{Primary: password.Bcrypt{Cost: 12}}))
	passphrase := "правильный конь батарейка скрепка и ещё немного" // 47 characters, 88 bytes
	fmt.Println(password.CheckLen(password.Bcrypt{Cost: 10}, passphrase))
	fmt.Println(password.CheckLen(password.Argon2id{}, passphrase))
	// Output:
	// 72
	// 1024
	// 72
	// password: longer than 72 bytes
	// <nil>
}
