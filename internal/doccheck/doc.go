// Package doccheck holds the tests that keep gatehouse's documentation
// honest. It has no code of its own:
//
//   - every package in the repository has a package doc comment, and a
//     library's starts "Package <name>";
//   - every command in a sh code block of README.md and docs/*.md is one
//     the tests know how to check, and they check it: go run starts the
//     example and waits for its banner, redis-server and redis-cli run on
//     free ports, curl talks to the example, go build and go doc run, go
//     test lists the tests its flags select, make names a Makefile target;
//   - every go code block that is a whole program ("package main") builds;
//   - docs/errors.md lists every error code the library answers with, at
//     its status, and no code it no longer raises;
//   - imports point down the floor plan (layers_test.go), test helpers
//     included.
//
// "make docs-check" runs them with the Redis steps required; plain go test
// skips those when redis-server is not installed, and go test -short only
// checks that each command is known.
package doccheck
