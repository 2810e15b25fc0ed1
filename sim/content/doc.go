// Package content models the contents of pages, sectors and files
// symbolically.
//
// wbsim never stores real data bytes. A byte's content is a label: the
// [Stamp] of the logical write that produced it and its position Src in that
// write's stream of bytes, or [Zero] for zero bytes (holes, zeroed page tails,
// never-written sectors). Runs of consecutive bytes with the same stamp and
// consecutive Src values are kept as one [Run], so
//
//   - a 4 GiB file or disk costs memory only for the runs that were written:
//     a few megabytes, not gigabytes;
//   - checks stay exact to the byte: two contents are equal exactly when every
//     byte has the same label, and equality is structural because runs are kept
//     in a canonical form (sorted, non-overlapping, maximally merged);
//   - Src catches moved bytes: a misdirected write, a wrong block mapping or a
//     page copied to the wrong offset puts the right stamp at the wrong place,
//     and the labels show that the bytes at an offset are not the ones that
//     belong there.
//
// There are two containers. [Bytes] is a small immutable value for one page,
// buffer or bio payload: a dense list of runs covering [0, Len). [Store] is a
// large sparse map from byte offset to content, for a disk or an AFS server
// file: unwritten bytes read as zeros and cost nothing, writes cost
// O(log n) per run touched, and [Store.Clone] is O(1) copy-on-write, cheap
// enough for a crash snapshot at every step.
//
// Text form: a run prints as "[off,end)=label" where label is "0" for zeros,
// "wN@src" for bytes src.. of write N, and "cN@src" for corrupt bytes (see
// [Corrupt]); contents print as their runs separated by spaces, for example
// "[0,512)=w3@0 [512,4096)=0", and empty contents print as "empty". [Parse]
// reads the same form.
//
// # Errors
//
// Negative lengths, offsets out of range and int64 overflow in the arguments of
// the methods here are bugs in the model, not conditions to handle, so those
// methods panic with a message that starts with "content:". [Parse], which
// reads text from scenarios and users, returns an error instead and never
// panics.
//
// Everything here is deterministic: no global state, no map iteration, no
// goroutines, no clock.
package content
