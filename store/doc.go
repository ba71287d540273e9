// Package store defines where gatehouse keeps its state: token records,
// looked up by the SHA-256 of the token, and hit counters for lockout.
//
// The interfaces are [Tokens] and [Counters], joined as [Store]. Tokens is
// built from small interfaces ([Reader], [Writer], [Consumer], [Rotator],
// [SubjectIndex]), so that code needing one ability asks for that one and a
// test fakes only it. Their doc comments are the contract every
// implementation keeps, and the suite in package storetest checks it: a
// miss is a zero value, false and a nil error; errors are for failures and wrap [ErrUnavailable]; every operation
// is atomic; every record expires.
//
// Implementations: package memory (one process, the default) and package
// redis (go-redis v9, standalone, Sentinel or Cluster). Both are io.Closers:
// close a store when the app is done with it (memory stops its sweeper;
// redis waits for the lookups in flight and leaves the go-redis client,
// which the app made and closes itself, open). [Store] does not require
// Close, so that a wrapper or a store that holds nothing need not have one.
//
// Stores never see a token, only its [ID]: the hash and a short routing tag
// shared by all of one subject's tokens.
package store
