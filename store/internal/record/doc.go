// Package record is the one definition of how a token record is written as
// bytes: the Go encoder and decoder in record.go, and their Lua counterpart
// in record.lua, which store/redis puts at the head of every script it
// sends. A change to the format is a change to both files and to
// [Version], and the round-trip test (Go → Lua → Go on a real Redis) holds
// them together.
//
// A record is one string, so that reading it (the hot path) is one GET and
// a Lua script can read, copy and rewrite it without a second format:
//
//	3<spent 0|1><kind: 2 hex><assurance: 2 hex>,<expires>,<issued>,<chainEnd>,<authTime>,<lastSeen>,<len S>,<len P>,<len D>,<len F>;<S><P><D><F>
//
// The first byte is the format version, '3'. Times are Unix milliseconds,
// 0 for the zero time, and are held to ±(2⁵³−1) ms (some 285,000 years),
// the integers Lua's numbers hold exactly, so that a script copies them
// unchanged. The kind and the assurance level take two hex digits each, so
// any uint8 fits. The four strings (Subject, Project, Device, Family)
// follow the header end to end, each measured in it, so any bytes at all
// (NUL, invalid UTF-8, the separators) come back exactly.
//
// Version 2 had no lastSeen (store.Record.LastSeen, the time a session
// was last touched); its header was otherwise the same. Version 1, written
// before there was a version byte, began with the spent flag ('0' or '1',
// never '2' or '3') and kept the kind in one decimal digit and no assurance
// level; its header was otherwise version 2's. Both decoders still read
// both, a missing lastSeen as 0 (never touched), so that records written
// before an upgrade stay valid until they expire; nothing writes them. A
// session read from version 1 or 2 counts its idle time from IssuedAt
// until its first touch, which writes version 3.
//
// Package store/memory does not keep this encoding: its entries hold the
// times as int64 and Project, Device and Family as one shared string (see
// entry.go there), which a Get reads without parsing a byte. Encoding its
// entries in this format would make each one larger (a header of some 40
// to 70 decimal characters in place of 32 bytes of integers, and the
// subject copied into every entry instead of shared by the subject's list)
// and make every Get parse decimal numbers. The memory store's bytes per
// token are a budget of their own (docs/performance.md), so it keeps its
// layout, and only the fields of store.Record tie the two together.
package record
