package scenarios

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wbsim/wbsim/faultdisk"
	"github.com/wbsim/wbsim/sim"
	"github.com/wbsim/wbsim/sim/errno"
)

// blockBase and afsBase are valid scenarios that the error cases extend.
const blockBase = `wbsim-scenario v1
name t
kernel 3.x
fs blockfs
`

const afsBase = `wbsim-scenario v1
name t
kernel afs-2.6.3x
fs afs
    key alice
    file /a
`

// errorCases: each input must fail, and its first error must be want
// exactly (file name t.wbs).
var errorCases = []struct {
	name, src, want string
}{
	// Header and lexical errors.
	{"empty", "", `t.wbs:1:1: expected the header "wbsim-scenario v1", got end of input`},
	{"only comments", "# hello\n\n", `t.wbs:3:1: expected the header "wbsim-scenario v1", got end of input`},
	{"no header", "name t\n", `t.wbs:1:1: expected the header "wbsim-scenario v1" (the first line that is not blank or a comment), got "name"`},
	{"version 2", "wbsim-scenario v2\n", `t.wbs:1:16: unsupported version v2 (this build reads v1)`},
	{"bad version", "wbsim-scenario 1\n", `t.wbs:1:16: expected a version such as v1, got "1"`},
	{"header junk", "wbsim-scenario v1 extra\n", `t.wbs:1:19: unexpected "extra" at the end of wbsim-scenario`},
	{"unterminated quote", blockBase + "task w\n    open f \"/a\n", `t.wbs:6:12: unterminated quoted string`},
	{"bad quote", blockBase + "task w\n    open f \"\\q\"\n", `t.wbs:6:12: invalid quoted string "\q" (use Go string syntax)`},
	{"non-ascii", blockBase + "task w\n    open f /é\n", `t.wbs:6:13: unexpected non-ASCII byte; quote names that are not plain ASCII`},
	{"control char", blockBase + "task w\n    sync\x01\n", `t.wbs:6:9: unexpected control character '\x01'`},
	{"bad utf8 comment", blockBase + "# \xff\ntask w\n    sync\n", `t.wbs:5:1: the comment is not valid UTF-8`},
	{"byte order mark", "\xef\xbb\xbfwbsim-scenario v1\n", `t.wbs:1:1: the file starts with a UTF-8 byte order mark; save it without one`},
	{"too large", "wbsim-scenario v1\n" + strings.Repeat("#\n", MaxScenarioBytes/2), `t.wbs:1:1: the scenario is 1048594 bytes long; the limit is 1048576`},

	// Structure.
	{"unknown statement", blockBase + "kernal 3.x\n", `t.wbs:5:1: unknown statement "kernal"; expected one of name, tags, description, bug, kernel, arch, fixes, fs, faults, vm, setup, task, check, fsync-contract, explore, expect`},
	{"setting outside its block", blockBase + "block-size 1024\n", `t.wbs:5:1: block-size belongs in the fs block (indented below "fs")`},
	{"op outside a task", blockBase + "fsync f\n", `t.wbs:5:1: fsync is an operation: put it in a task (indented below "task NAME")`},
	{"top-level in a task", blockBase + "task w\n    sync\n    kernel 3.x\n", `t.wbs:7:5: kernel is a top-level statement: it starts at column 1`},
	{"unexpected indentation", blockBase + "task w\n    sync\n        sync\n", `t.wbs:7:9: unexpected indentation: this line is indented more than the one above, which takes no block`},
	{"indented top level", blockBase + "tags a\n  kernel 3.x\n", `t.wbs:6:3: unexpected indentation: a top-level statement starts at column 1`},
	{"mixed tabs and spaces", blockBase + "task w\n    sync\n\tsync\n", `t.wbs:7:2: the indentation does not match the lines above (tabs and spaces mixed?)`},
	{"given twice", blockBase + "kernel 2.6.12\n", `t.wbs:5:1: kernel given twice (first at 3:1)`},
	{"fs setting twice", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    layout extent\n    layout indirect\n", `t.wbs:6:5: fs layout given twice (first at 5:5)`},
	{"empty task", blockBase + "task w\n", `t.wbs:5:1: task w has no operations: write them on the lines below, indented`},
	{"empty description", blockBase + "description\ntask w\n    sync\n", `t.wbs:5:1: the description has no text: write it on the lines below, indented`},
	{"missing kernel", "wbsim-scenario v1\nname t\nfs blockfs\ntask w\n    sync\n", `t.wbs:1:1: the kernel version is missing; expected "kernel" and one of 2.6.12, 2.6.2x, 3.x, afs-2.6.3x`},
	{"missing fs", "wbsim-scenario v1\nname t\nkernel 3.x\ntask w\n    sync\n", `t.wbs:1:1: the file system is missing; expected "fs blockfs" or "fs afs"`},
	{"missing name", "wbsim-scenario v1\nkernel 3.x\nfs blockfs\ntask w\n    sync\n", `t.wbs:1:1: the scenario name is missing`},
	{"no task", blockBase, `t.wbs:1:1: the scenario has no task; add one with "task NAME" and its operations`},

	// Closed vocabularies.
	{"unknown kernel", "wbsim-scenario v1\nname t\nkernel 2.6.99\nfs blockfs\ntask w\n    sync\n", `t.wbs:3:8: unknown kernel version "2.6.99"; expected one of 2.6.12, 2.6.2x, 3.x, afs-2.6.3x`},
	{"unknown fs", "wbsim-scenario v1\nname t\nkernel 3.x\nfs ext4\n", `t.wbs:4:4: unknown file system "ext4"; expected blockfs or afs`},
	{"kernel and fs disagree", "wbsim-scenario v1\nname t\nkernel afs-2.6.3x\nfs blockfs\ntask w\n    sync\n", `t.wbs:4:4: kernel afs-2.6.3x runs on afs, not blockfs`},
	{"unknown arch", blockBase + "arch 16-bit\ntask w\n    sync\n", `t.wbs:5:6: unknown arch "16-bit"; expected one of 32-bit, 64-bit`},
	{"block size", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    block-size 1000\ntask w\n    sync\n", `t.wbs:5:16: block size 1000 is not one of 512, 1024, 2048, 4096`},
	{"block size 0", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    block-size 0\n", `t.wbs:5:16: block size 0 is not one of 512, 1024, 2048, 4096`},
	{"layout", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    layout btree\ntask w\n    sync\n", `t.wbs:5:12: unknown layout "btree"; expected one of indirect, extent`},
	{"capacity alignment", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    capacity 1000000\ntask w\n    sync\n", `t.wbs:5:14: capacity 1000000 is not a multiple of the block size 4096`},
	{"capacity unit", "wbsim-scenario v1\nname t\nkernel 3.x\nfs blockfs\n    capacity 64MB\n", `t.wbs:5:14: expected a disk size, a size such as 4096 or 4KiB (units KiB, MiB, GiB, TiB), got "64MB"`},
	{"afs setting on blockfs", blockBase + "    key alice\n", `t.wbs:5:5: key is an afs setting; the file system is blockfs`},
	{"blockfs setting on afs", afsBase + "    nobh on\n", `t.wbs:7:5: nobh is a blockfs setting; the file system is afs`},
	{"unknown fix", blockBase + "fixes frobnicate\ntask w\n    sync\n", `t.wbs:5:7: unknown fix "frobnicate"; kernel 3.x takes one of boundary-ignored, wb-integrity-error`},
	{"fix of another subsystem", blockBase + "fixes kill-pages-loop\ntask w\n    sync\n", `t.wbs:5:7: fix "kill-pages-loop" belongs to afs, and kernel 3.x models mpage; it takes one of boundary-ignored, wb-integrity-error`},
	{"fix of another version", blockBase + "fixes sector-overflow\ntask w\n    sync\n", `t.wbs:5:7: fix "sector-overflow" applies to 2.6.12 only: kernel 3.x does not have the bug`},
	{"fix twice", blockBase + "fixes boundary-ignored boundary-ignored\ntask w\n    sync\n", `t.wbs:5:24: fix "boundary-ignored" given twice`},
	{"fixes none and names", blockBase + "fixes none boundary-ignored\n", `t.wbs:5:12: unexpected "boundary-ignored" at the end of fixes`},
	{"unknown invariant", blockBase + "task w\n    sync\ncheck page-stat\n", `t.wbs:7:7: unknown invariant "page-stat"; expected one of page-state, page-ref, wb-record, bio-shape, lock, progress, read-correct, fsync-durable, fsync-error, crash, no-lost-write, cyclic-complete, sync-complete, writepages-error, writeback-index, fs-consistent, rpc-shape, fsync-bounded, dirty-expire`},
	{"invariant does not apply", blockBase + "task w\n    sync\ncheck wb-record\n", `t.wbs:7:7: invariant wb-record does not apply: it checks AFS writeback records and the file system is not afs`},
	{"crash invariant without crash", blockBase + "task w\n    sync\ncheck crash\n", `t.wbs:7:7: invariant crash does not apply: no task crashes`},
	{"check all except nothing", blockBase + "task w\n    sync\ncheck all except\n", `t.wbs:7:17: expected invariant ids after except, got end of line`},
	{"unknown contract", blockBase + "task w\n    sync\nfsync-contract posix\n", `t.wbs:7:16: unknown fsync-error contract "posix"; expected one of linux-2.6, errseq, errseq-once`},
	{"unknown strategy", blockBase + "task w\n    sync\nexplore\n    strategy bfs\n", `t.wbs:8:14: unknown strategy "bfs"; expected one of random, pct, dfs, rr`},
	{"pct without depth", blockBase + "task w\n    sync\nexplore\n    strategy pct\n", `t.wbs:8:17: expected "depth" and a number (strategy pct depth N), got end of line`},
	{"pct depth 0", blockBase + "task w\n    sync\nexplore\n    strategy pct depth 0\n", `t.wbs:8:24: pct depth 0 is outside 1..16`},
	{"schedules 0", blockBase + "task w\n    sync\nexplore\n    schedules 0\n", `t.wbs:8:15: schedules 0 is not allowed; leave it out for the default`},
	{"schedules too many", blockBase + "task w\n    sync\nexplore\n    schedules 100000001\n", `t.wbs:8:15: schedules 100000001 is outside 1..100000000`},
	{"memory 0", blockBase + "task w\n    sync\nexplore\n    memory 0\n", `t.wbs:8:12: memory 0 is not allowed; leave it out for the default`},
	{"memory not a size", blockBase + "task w\n    sync\nexplore\n    memory lots\n", `t.wbs:8:12: expected a memory budget, a size such as 4096 or 4KiB (units KiB, MiB, GiB, TiB), got "lots"`},
	{"memory too small", blockBase + "task w\n    sync\nexplore\n    memory 4KiB\n", `t.wbs:8:12: memory 4KiB is outside 1MiB..1TiB`},
	{"memory too large", blockBase + "task w\n    sync\nexplore\n    memory 2TiB\n", `t.wbs:8:12: memory 2TiB is outside 1MiB..1TiB`},
	{"seed too large", blockBase + "task w\n    sync\nexplore\n    seed 18446744073709551616\n", `t.wbs:8:10: seed 18446744073709551616 is too large (the limit is 18446744073709551615)`},
	{"unknown failure", blockBase + "task w\n    sync\nexpect failure frob\n", `t.wbs:7:16: unknown failure "frob"; expected an invariant (page-state, page-ref, wb-record, bio-shape, lock, progress, read-correct, fsync-durable, fsync-error, crash, no-lost-write, cyclic-complete, sync-complete, writepages-error, writeback-index, fs-consistent, rpc-shape, fsync-bounded, dirty-expire) or a failure kind (deadlock, livelock, time-budget, bug)`},
	{"expected failure not checked", blockBase + "task w\n    sync\ncheck lock\nexpect failure deadlock\n", `t.wbs:8:16: expects failure deadlock, but invariant progress is not checked: the check statement leaves it out`},
	{"expect what", blockBase + "task w\n    sync\nexpect nothing\n", `t.wbs:7:8: expected ok, failure and an invariant id, or trace and a file, got "nothing"`},
	{"absolute trace", blockBase + "task w\n    sync\nexpect trace /etc/x\n", `t.wbs:7:14: invalid trace file /etc/x: it must be relative to the scenario file`},
	{"trace dotdot", blockBase + "task w\n    sync\nexpect trace ../x\n", `t.wbs:7:14: invalid trace file ../x: it has a ".." component`},

	// Operations.
	{"unknown op", blockBase + "task w\n    wrte f 0+1 as A\n", `t.wbs:6:5: expected an operation (open, write, pwrite, read, mmap-write, fsync, fdatasync, msync, sync, truncate, close, sleep, crash, drop-caches, signal, revoke-key, expire-key, repeat, device, server, after crash, stat), got "wrte"`},
	{"fd before open", blockBase + "task w\n    write f 0+4KiB as A\n", `t.wbs:6:11: write uses fd f, which is not open: it was never opened in this task or in setup`},
	{"fd after close", blockBase + "task w\n    open f /a\n    close f\n    fsync f\n", `t.wbs:8:11: fsync uses fd f, which is not open: it was closed at 7:5`},
	{"fd after crash", blockBase + "task w\n    open f /a\n    crash\n    fsync f\n", `t.wbs:8:11: fsync uses fd f, which is not open: the crash at 7:5 closed it`},
	{"fd opened twice", blockBase + "task w\n    open f /a\n    open f /b\n", `t.wbs:7:10: fd f is already open; close it first or use another name`},
	{"fd of another task", blockBase + "task a\n    open f /a\ntask b\n    fsync f\n", `t.wbs:8:11: fsync uses fd f, which is not open: it was never opened in this task or in setup`},
	{"bad fd name", blockBase + "task w\n    open f$ /a\n", `t.wbs:6:10: invalid fd name "f$": a fd name may hold only letters, digits and "_", and after the first character "-" and "."`},
	{"relative path", blockBase + "task w\n    open f data\n", `t.wbs:6:12: invalid path data: it must be absolute (start with "/")`},
	{"negative offset", blockBase + "task w\n    open f /a\n    write f -5+3 as A\n", `t.wbs:7:13: offset -5 is negative`},
	{"negative length", blockBase + "task w\n    open f /a\n    write f 0+-3 as A\n", `t.wbs:7:13: length -3 is negative`},
	{"offset overflow", blockBase + "task w\n    open f /a\n    write f 99999999999999999999+1 as A\n", `t.wbs:7:13: offset 99999999999999999999 is too large`},
	{"size overflow", blockBase + "task w\n    open f /a\n    write f 9000000TiB+1 as A\n", `t.wbs:7:13: offset 9000000TiB is too large`},
	{"range overflow", blockBase + "task w\n    open f /a\n    write f 9223372036854775807+1 as A\n", `t.wbs:7:13: range 9223372036854775807+1 is too large`},
	{"beyond max file size", blockBase + "task w\n    open f /a\n    pwrite f 16TiB+1 as A\n", `t.wbs:7:14: 16TiB+1 ends beyond the file size limit 16TiB`},
	{"length too large", blockBase + "task w\n    open f /a\n    write f 0+2GiB as A\n", `t.wbs:7:13: length 2GiB is outside 1..1GiB`},
	{"empty range", blockBase + "task w\n    open f /a\n    write f 8..8 as A\n", `t.wbs:7:13: range 8..8 is empty or ends before it starts`},
	{"pwrite without offset", blockBase + "task w\n    open f /a\n    pwrite f 4KiB as A\n", `t.wbs:7:14: expected a range such as 0+4KiB or 0..4KiB, got "4KiB": pwrite needs an offset`},
	{"write without label", blockBase + "task w\n    open f /a\n    write f 0+4KiB\n", `t.wbs:7:19: expected "as" and a label (the write's name in expectations and traces), got end of line`},
	{"label twice", blockBase + "task w\n    open f /a\n    write f 0+1 as A\n    write f 0+1 as A\n", `t.wbs:8:20: label A is already used by another write (at 7:5); every write has its own label`},
	{"label zero", blockBase + "task w\n    open f /a\n    write f 0+1 as zero\n", `t.wbs:7:20: "zero" is not a label: it stands for zero bytes in read expectations`},
	{"unknown label in expect", blockBase + "task w\n    open f /a\n    read f 0+1 expect B:1\n", `t.wbs:7:23: no write is labelled B`},
	{"runs longer than the read", blockBase + "task w\n    open f /a\n    read f 0+1 expect zero:2\n", `t.wbs:7:16: the expected runs add up to 2, more than the 1 read`},
	{"run outside its write", blockBase + "task w\n    open f /a\n    write f 0+4KiB as A\n    read f 4KiB+4KiB expect A:4KiB\n", `t.wbs:8:29: A:4KiB is file bytes 4096..8192, but write A covers 0..4096`},
	{"data on fsync", blockBase + "task w\n    open f /a\n    fsync f expect zero:1\n", `t.wbs:7:13: only a read can expect data; fsync can expect ok or an errno`},
	{"expect on sleep", blockBase + "task w\n    sleep 1ms expect ok\n", `t.wbs:6:15: sleep returns nothing to expect`},
	{"unknown errno", blockBase + "task w\n    open f /a\n    fsync f expect EIOO\n", `t.wbs:7:20: expected ok, eof, an errno such as EIO, or runs such as A:4KiB zero:4KiB, got "EIOO"`},
	{"lower-case errno", blockBase + "task w\n    open f /a\n    fsync f expect eio\n", `t.wbs:7:20: expected ok, eof, an errno such as EIO, or runs such as A:4KiB zero:4KiB, got "eio" (errno names are upper case: EIO)`},
	{"ERESTARTSYS", blockBase + "task w\n    open f /a\n    fsync f expect ERESTARTSYS\n", `t.wbs:7:13: ERESTARTSYS never reaches user space (a system call returns EINTR)`},
	{"sleep too long", blockBase + "task w\n    sleep 86401s\n", `t.wbs:6:11: sleep 86401s is outside 1ns..86400s`},
	{"sleep in hours", blockBase + "task w\n    sleep 1h\n", `t.wbs:6:11: expected a duration such as 10ms, 1.5s, 250us or 100ns, got "1h"`},
	{"sleep 0", blockBase + "task w\n    sleep 0s\n", `t.wbs:6:11: sleep 0s is outside 1ns..86400s`},
	{"signal unknown task", blockBase + "task w\n    signal nobody\n", `t.wbs:6:12: signal to unknown task "nobody"; the tasks are w`},
	{"repeat at top level", blockBase + "repeat 2\n    sync\n", `t.wbs:5:1: repeat is an operation: put it in a task (indented below "task NAME")`},
	{"repeat unknown task", blockBase + "task w\n    repeat until x done\n        sync\n", `t.wbs:6:18: repeat until unknown task "x"; the tasks are w`},
	{"repeat block badly indented", blockBase + "task w\n    repeat 2\n        sync\n      sync\n", `t.wbs:8:7: the indentation does not match the lines above`},
	{"repeat block in a block", blockBase + "task w\n    repeat 2\n        sync\n            sync\n", `t.wbs:8:13: unexpected indentation: this line is indented more than the one above, which takes no block`},
	{"repeat label in body read after", blockBase + "task w\n    open f /a\n    repeat 2\n        write f 0+1 as A\n    read f 0+2 expect A:2\n", `t.wbs:9:23: A:2 is file bytes 0..2, but write A covers 0..1`},
	{"signal self", blockBase + "task w\n    signal w\n", `t.wbs:6:12: task w signals itself`},
	{"signal from setup", blockBase + "setup\n    signal w\ntask w\n    sync\n", `t.wbs:6:5: setup cannot signal a task: the tasks start after it`},
	{"task twice", blockBase + "task w\n    sync\ntask w\n    sync\n", `t.wbs:7:6: task w declared twice`},
	{"task named setup", blockBase + "task setup\n    sync\n", `t.wbs:5:6: "setup" is not a task name: it is the setup block's`},
	{"unknown flag", blockBase + "task w\n    open f /a excl\n", `t.wbs:6:15: expected "as KEY", an open flag (rdonly, wronly, trunc, append, sync) or "expect", got "excl"`},
	{"rdonly and wronly", blockBase + "task w\n    open f /a rdonly wronly\n", `t.wbs:6:22: rdonly and wronly exclude each other`},
	{"truncate beyond limit", blockBase + "task w\n    open f /a\n    truncate f 17TiB\n", `t.wbs:7:16: truncate size 17TiB is outside 0..16TiB`},

	// File-system specific operations and cross-references.
	{"as KEY on blockfs", blockBase + "task w\n    open f /a as alice\n", `t.wbs:6:18: "as KEY" opens with an AFS key; the file system is blockfs`},
	{"afs op on blockfs", blockBase + "task w\n    revoke-key alice\n", `t.wbs:6:5: revoke-key is an AFS operation; the file system is blockfs`},
	{"open on afs without key", afsBase + "task w\n    open f /a\n", `t.wbs:8:5: open on afs needs a key: "open f /a as KEY"`},
	{"undeclared key", afsBase + "task w\n    open f /a as bob\n", `t.wbs:8:18: key bob is not declared in the fs block`},
	{"expire undeclared key", afsBase + "task w\n    expire-key bob\n", `t.wbs:8:16: key bob is not declared in the fs block`},
	{"key twice", afsBase + "    key alice\ntask w\n    sync\n", `t.wbs:7:9: key alice declared twice`},
	{"unknown key state", afsBase + "    key bob lost\ntask w\n    sync\n", `t.wbs:7:13: unknown key state "lost"; expected one of valid, expired, revoked, rejected`},
	{"acl on undeclared file", afsBase + "    acl /b alice write\ntask w\n    sync\n", `t.wbs:7:9: acl on /b, which is not a declared file (declare it with "file /b")`},
	{"acl rights", afsBase + "    acl /a alice all\ntask w\n    sync\n", `t.wbs:7:18: unknown rights "all"; expected one of none, read, write`},
	{"file twice", blockBase + "    file /a\n    file /a size 1\ntask w\n    sync\n", `t.wbs:6:10: file /a declared twice`},

	// Fault plans: faultdisk's errors at this file's positions, and checks
	// against the file system.
	{"fault plan syntax", blockBase + "faults\n    write sectors 9..1: fail EIO\n", `t.wbs:6:19: range 9..1 ends before it starts`},
	{"fault plan with tabs", blockBase + "faults\n\t\twrite: fail EIOO\n", `t.wbs:6:15: expected an errno such as EIO, got "EIOO"`},
	{"fault plan second line", blockBase + "faults\n    # comment\n    write: fail EIO\n\n    read: corupt\n", `t.wbs:9:11: expected an action (fail, transient, latent, misdirect, corrupt, latency, offline, partial, drop), got "corupt"`},
	{"fault plan header", blockBase + "faults\n    faultplan v2\n", `t.wbs:6:15: unsupported version "v2" (this build reads v1)`},
	{"server rule on blockfs", blockBase + "faults\n    store file 1: fail EIO\ntask w\n    sync\n", `t.wbs:6:5: store file 1: fail EIO: store is not an operation of the blockfs disk, which has read, write, flush, fua-write, alloc`},
	{"disk rule on afs", afsBase + "faults\n    write,flush: fail EIO\ntask w\n    sync\n", `t.wbs:8:5: write,flush: fail EIO: write, flush are not an operation of the AFS file server, which has alloc, store, fetch`},
	{"disk-only rule on afs", afsBase + "faults\n    sectors 0..8: fail EIO\ntask w\n    sync\n", `t.wbs:8:5: any sectors 0..8: fail EIO: the rule can never fire on the AFS file server: it applies to read, write, fua-write only`},
	{"undeclared key in faults", afsBase + "faults\n    store key bob: fail EKEYEXPIRED\ntask w\n    sync\n", `t.wbs:8:5: store key bob: fail EKEYEXPIRED: key bob is not declared in the fs block`},

	// VM.
	{"dirty ratio order", blockBase + "vm\n    dirty ratio 10 background 20\ntask w\n    sync\n", `t.wbs:6:17: background ratio 20 must be below the dirty ratio 10`},
	{"dirty ratio above 100", blockBase + "vm\n    dirty ratio 120\n", `t.wbs:6:17: a ratio is a percentage, at most 100`},
	{"memory 0", blockBase + "vm\n    memory 0\n", `t.wbs:6:12: memory 0 is not allowed; leave the setting out for the default`},
	{"flusher junk", blockBase + "vm\n    flusher every 5s\n", `t.wbs:6:13: expected "interval" or "expire" and a duration, got "every"`},
	{"vm unknown", blockBase + "vm\n    swappiness 60\n", `t.wbs:6:5: unknown vm setting "swappiness"; expected memory, reclaim, dirty or flusher`},

	// Bug block.
	{"bug commit", blockBase + "bug\n    id b\n    commit XYZ\ntask w\n    sync\n", `t.wbs:7:12: invalid commit "XYZ": expected 7 to 40 lower-case hex digits`},
	{"bug fix unquoted", blockBase + "bug\n    fix afs\n", `t.wbs:6:9: expected the fix title as a quoted string: fix "afs: fix ...", got "afs"`},
	{"bug switch", blockBase + "bug\n    id b\n    switch kill-pages-loop\ntask w\n    sync\n", `t.wbs:7:12: fix "kill-pages-loop" belongs to afs, and kernel 3.x models mpage; it takes one of boundary-ignored, wb-integrity-error`},
	{"bug without id", blockBase + "bug\n    switch boundary-ignored\ntask w\n    sync\n", `t.wbs:5:1: the bug id is missing`},
	{"tag twice", blockBase + "tags a b a\ntask w\n    sync\n", `t.wbs:5:10: tag "a" given twice`},
}

func TestParseErrors(t *testing.T) {
	for _, c := range errorCases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("t.wbs", []byte(c.src))
			if err == nil {
				t.Fatalf("no error; parsed:\n%s", s)
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			if first != c.want {
				t.Errorf("first error\n got: %s\nwant: %s\nall:\n%v\nsource:\n%s", first, c.want, err, numbered(c.src))
			}
			var e *Error
			if !errors.As(err, &e) || !e.Pos.IsValid() || e.Pos.File != "t.wbs" {
				t.Errorf("error %#v is not an *Error with a position", err)
			}
		})
	}
}

// TestParseManyErrors: errors are collected, in source order, up to
// MaxErrors.
func TestParseManyErrors(t *testing.T) {
	src := blockBase + "arch 16\nfixes x\ntask w\n    fsync f\n    signal z\n"
	_, err := Parse("t.wbs", []byte(src))
	got := strings.Split(err.Error(), "\n")
	want := []string{
		`t.wbs:5:6: unknown arch "16"; expected one of 32-bit, 64-bit`,
		`t.wbs:6:7: unknown fix "x"; kernel 3.x takes one of boundary-ignored, wb-integrity-error`,
		`t.wbs:8:11: fsync uses fd f, which is not open: it was never opened in this task or in setup`,
		`t.wbs:9:12: signal to unknown task "z"; the tasks are w`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("errors (-want +got):\n%s", d)
	}
	u, ok := err.(interface{ Unwrap() []error })
	if !ok || len(u.Unwrap()) != 4 {
		t.Fatalf("error is not a join of 4: %T", err)
	}
	// Syntax errors are collected too, and capped.
	var b strings.Builder
	b.WriteString(blockBase + "task w\n")
	for range 50 {
		b.WriteString("    frob\n")
	}
	_, err = Parse("t.wbs", []byte(b.String()))
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrors+1 || !strings.Contains(lines[MaxErrors], "too many errors") {
		t.Errorf("got %d error lines, last %q; want %d and a too-many note", len(lines), lines[len(lines)-1], MaxErrors+1)
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString(blockBase)
	for i := range MaxTasks + 1 {
		b.WriteString("task t" + strconv.Itoa(i) + "\n    sync\n")
	}
	_, err := Parse("t.wbs", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "65 tasks; the limit is 64") {
		t.Errorf("too many tasks: %v", err)
	}
	b.Reset()
	b.WriteString(blockBase + "task w\n")
	for range MaxOpsPerTask + 1 {
		b.WriteString("    sync\n")
	}
	_, err = Parse("t.wbs", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "t.wbs:5:1: 10001 operations; the limit is 10000 per task") {
		t.Errorf("too many operations: %v", err)
	}
}

// TestPositions: every node keeps where it came from.
func TestPositions(t *testing.T) {
	src := "# head\n" + afsBase + `faults
    # c1
    store file 1: fail EIO  # t1
    fetch: corrupt
setup
    open s /a as alice
task w
    open f /a as alice
	# tabs are fine inside a block of tabs? no: this comment is just a comment
    write f 0+4KiB as A
`
	s, err := Parse("p.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	pos := func(p Pos) string { return p.String() }
	checks := []struct{ got, want string }{
		{pos(s.Meta.Pos), "p.wbs:2:1"},
		{pos(s.Settings["kernel"].Pos), "p.wbs:4:1"},
		{pos(s.Settings["fs"].Pos), "p.wbs:5:1"},
		{pos(s.FS.AFS.Keys[0].Meta.Pos), "p.wbs:6:5"},
		{pos(s.FS.Files[0].Meta.Pos), "p.wbs:7:5"},
		{pos(s.Faults.RuleMeta[0].Pos), "p.wbs:10:5"},
		{pos(s.Faults.RuleMeta[1].Pos), "p.wbs:11:5"},
		{pos(s.Setup.Meta.Pos), "p.wbs:12:1"},
		{pos(s.Setup.Ops[0].Meta.Pos), "p.wbs:13:5"},
		{pos(s.Tasks[0].Meta.Pos), "p.wbs:14:1"},
		{pos(s.Tasks[0].Ops[1].Meta.Pos), "p.wbs:17:5"},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: position %s, want %s", i, c.got, c.want)
		}
	}
	if d := cmp.Diff([]string{"head"}, s.Meta.Comment); d != "" {
		t.Errorf("header comment: %s", d)
	}
	if r := s.Faults.RuleMeta[0]; !cmp.Equal(r.Comment, []string{"c1"}) || r.Trailing != "t1" {
		t.Errorf("rule comments: %+v", r)
	}
	if c := s.Tasks[0].Ops[1].Meta.Comment; len(c) != 1 || !strings.HasPrefix(c[0], "tabs are fine") {
		t.Errorf("op comment: %q", c)
	}
}

// TestParseValues: the text maps to the fields it should.
func TestParseValues(t *testing.T) {
	src := `wbsim-scenario v1 # v
name values
tags a b
kernel 2.6.12
arch 32-bit
fixes wb-integrity sector-overflow
fs blockfs
    block-size 512
    layout extent
    allocator interleaved
    nobh on
    fsync-flush off
    capacity 1GiB
    latency 1.5ms
    file "/with space" size 12KiB
faults
    faultplan v1
    write sectors 0+8: fail EIO once
vm
    memory 8192
    reclaim limit 512
    dirty pages 100 background 50
    flusher interval 250ms expire 1s
setup
    open s /a trunc append
    write s 4KiB as SETUP
task w
    write s 0..4KiB as A expect ok
    pwrite s 1TiB+1 as B
    mmap-write s 8KiB+4KiB as C
    read s 0+8KiB expect A:4KiB SETUP:4KiB
    read s 100 expect eof
    fdatasync s expect EIO
    truncate s 1MiB
    sleep 2s
    drop-caches
    crash
    sync
check all except lock
fsync-contract errseq
explore
    strategy dfs bound 3
    schedules 7
    steps 1000
    time 1.5s
    seed 18446744073709551615
    memory 512MiB
expect failure livelock
expect trace golden/values.trace
`
	s, err := Parse("v.wbs", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := faultdisk.Parse("faultplan v1\nwrite sectors 0..8: fail EIO once\n")
	want := &Scenario{
		Meta:   Meta{Trailing: "v"},
		Name:   "values",
		Tags:   []string{"a", "b"},
		Kernel: Kernel2_6_12,
		Arch:   Arch32,
		Fixes:  []string{"wb-integrity", "sector-overflow"},
		FS: FS{
			BlockFS: &BlockFS{BlockSize: 512, Layout: LayoutExtent, Allocator: AllocInterleaved, NoBH: On, FsyncFlush: Off,
				Capacity: 1 << 30, Latency: 1500 * sim.Microsecond},
			Files: []File{{Path: "/with space", Size: 12 << 10}},
		},
		Faults: &FaultPlan{Plan: plan, RuleMeta: Metas{{}}},
		VM: VM{MemoryPages: 8192, ReclaimLimit: 512, DirtyPages: 100, DirtyBackgroundPages: 50,
			Flusher: Flusher{Interval: 250 * sim.Millisecond, Expire: sim.Second}},
		Setup: &Task{Ops: []Op{
			{Kind: OpOpen, FD: "s", Path: "/a", Flags: Trunc | Append},
			{Kind: OpWrite, FD: "s", Offset: AtPos, Len: 4096, Label: "SETUP"},
		}},
		Tasks: []*Task{{Name: "w", Ops: []Op{
			{Kind: OpWrite, FD: "s", Offset: 0, Len: 4096, Label: "A", Expect: Result{Kind: ResultOK}},
			{Kind: OpPWrite, FD: "s", Offset: 1 << 40, Len: 1, Label: "B"},
			{Kind: OpMmapWrite, FD: "s", Offset: 8192, Len: 4096, Label: "C"},
			{Kind: OpRead, FD: "s", Offset: 0, Len: 8192, Expect: Result{Kind: ResultData, Data: []Run{Data("A", 4096), Data("SETUP", 4096)}}},
			{Kind: OpRead, FD: "s", Offset: AtPos, Len: 100, Expect: Result{Kind: ResultData}},
			{Kind: OpFdatasync, FD: "s", Expect: Result{Kind: ResultErrno, Errno: errno.EIO}},
			{Kind: OpTruncate, FD: "s", Size: 1 << 20},
			{Kind: OpSleep, Dur: 2 * sim.Second},
			{Kind: OpDropCaches},
			{Kind: OpCrash},
			{Kind: OpSync},
		}}},
		Checks:   Checks{Except: []Invariant{InvLock}},
		Contract: ContractErrseq,
		Explore:  Explore{Strategy: DFS(3), Schedules: 7, Steps: 1000, Time: 1500 * sim.Millisecond, Seed: 1<<64 - 1, Memory: 512 << 20},
		Expect:   Expect{Outcome: OutcomeFailure, Failure: "livelock", Trace: "golden/values.trace"},
	}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("parsed (-want +got):\n%s", d)
	}
}

// TestCRLF: Windows line ends parse like Unix ones.
func TestCRLF(t *testing.T) {
	for _, f := range BuiltinFiles() {
		unix, err := Parse(f.Path, f.Src)
		if err != nil {
			t.Fatal(err)
		}
		dos, err := Parse(f.Path, []byte(strings.ReplaceAll(string(f.Src), "\n", "\r\n")))
		if err != nil {
			t.Fatalf("%s with CRLF: %v", f.Path, err)
		}
		if d := cmp.Diff(unix, dos); d != "" {
			t.Errorf("%s: CRLF changes the scenario:\n%s", f.Path, d)
		}
	}
}

// TestAfterCrashFDsAreTheBlocks: the fds an after crash block opens are
// its own (it runs on each crash state and ends there), so an op after
// the block may open the same name again, and may not use it.
func TestAfterCrashFDsAreTheBlocks(t *testing.T) {
	head := blockBase + "task w\n    crash\n    after crash\n        open a /a\n        read a 0+1\n"
	if _, err := Parse("t.wbs", []byte(head+"    open a /a\n")); err != nil {
		t.Errorf("opening the block's fd name again after it: %v", err)
	}
	_, err := Parse("t.wbs", []byte(head+"    fsync a\n"))
	if err == nil || !strings.Contains(err.Error(), "fsync uses fd a, which is not open") {
		t.Errorf("using the block's fd after it: %v, want not open", err)
	}
}
