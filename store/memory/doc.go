// Package memory keeps gatehouse's tokens and counters in the memory of one
// process: the default [store.Store] for an app that runs as one instance.
// Everything is lost when the process ends, which logs everybody out.
//
// A [Store] is safe for concurrent use. [Store.Get], the lookup behind every
// authenticated request, takes a read lock on one of many shards and does
// not allocate. Each subject's records are indexed, so that logging a
// subject out, or listing its sessions, costs in proportion to that
// subject's records, not to the whole store.
//
// Memory is bounded, in two budgets: at most [Options.MaxRecords] token
// records, and apart from them at most [Options.MaxCounters] counters, rate
// limits and login attempt counters, which is all that requests from
// strangers can create. A full token budget answers [store.ErrFull]; a full
// counter budget first evicts an entry that no lock depends on (see
// [Options.MaxCounters]). A background sweeper deletes expired entries. Expired entries are misses at once, swept or not, but
// take up room until the sweeper (or [Store.Sweep]) removes them. Call
// [Store.Close] to stop the sweeper; a store that is dropped without Close
// stops it once the garbage collector finds the store unreachable.
package memory
