// Package storetest is the conformance suite for implementations of
// [store.Store]: one call checks the contract written in the doc comments
// of package store, in the manner of testing/fstest.TestFS.
//
// A store author calls [Run] from an ordinary test and hands it a
// [Factory] that builds a new, empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
//			s := mystore.New(mystore.Options{Now: now})
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Run calls the factory once per subtest, so the subtests are independent;
// a store on a shared server should give each call its own key prefix.
//
// The suite owns a fake clock and passes its Now to the factory. The clock
// starts at the current time (to the millisecond, the precision a Redis
// store keeps) and only moves forward when a subtest wants something to
// expire, so the store must take every expiry decision from that function,
// not from its own clock. Times are compared to the millisecond.
//
// Subtests are named by area and case, such as "Consume/SingleUseUnderRace",
// so one failing case can be rerun with go test -run.
package storetest
