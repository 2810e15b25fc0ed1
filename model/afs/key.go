package afs

import (
	"fmt"
	"runtime/debug"

	"github.com/wbsim/wbsim/sim"
)

// Key is struct key (security/keys), the parts AFS uses: one per user's
// credential (an rxkad ticket for the cell). The file server checks
// permissions by the key's Name; the client counts references with
// key_get/key_put (security/keys/key.c, 2.6.35). A key whose usage reaches
// zero is freed (key_cleanup); putting it again, or using it after that,
// is a failure.
//
// Key reference errors are reported under the wb-record invariant: in the
// model every key reference is held by an open file (afs_open's
// afs_request_key) or by an afs_writeback record (afs_write_begin's
// key_get, dropped by afs_free_writeback), so a bad put is a record freed
// twice or a key the record never took.
type Key struct {
	Name   string
	Serial int32
	usage  int
	freed  bool
}

// NewKey makes a key with one reference, the caller's (request_key).
func (fs *FS) NewKey(name string) *Key {
	fs.nextKey++
	k := &Key{Name: name, Serial: fs.nextKey, usage: 1}
	fs.keys = append(fs.keys, k)
	return k
}

// Usage is the key's reference count.
func (k *Key) Usage() int { return k.usage }

// Freed reports whether the key's last reference was dropped.
func (k *Key) Freed() bool { return k.freed }

func (k *Key) String() string {
	if k == nil {
		return "key(nil)"
	}
	return fmt.Sprintf("key %s#%d", k.Name, k.Serial)
}

func keyFail(t *sim.Task, k *Key, msg, explain string) {
	t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvWbRecord,
		Obj: sim.Obj{Class: "key", Name: k.Name, A: int64(k.Serial)}, Msg: msg, Explain: explain,
		Stack: string(debug.Stack())})
}

// keyUse checks that k may be used (not freed): key_serial(key) and the
// server's permission check read the key.
func keyUse(t *sim.Task, k *Key, op string) {
	if k != nil && k.freed {
		keyFail(t, k, fmt.Sprintf("%s: use of %s after its last reference was dropped", op, k),
			"A key was used after key_put dropped its last reference: whoever used it did not hold a "+
				"reference of its own. Writeback records hold a key reference (key_get in "+
				"afs_write_begin) until afs_free_writeback drops it.")
	}
}

// KeyGet is key_get(key): take a reference (NULL is passed through).
func KeyGet(t *sim.Task, k *Key) *Key {
	if k == nil {
		return nil
	}
	keyUse(t, k, "key_get")
	k.usage++
	return k
}

// KeyPut is key_put(key): drop a reference (NULL is ignored); the last one
// frees the key.
func KeyPut(t *sim.Task, k *Key) {
	if k == nil {
		return
	}
	if k.freed || k.usage <= 0 {
		keyFail(t, k, fmt.Sprintf("key_put: %s put below zero (usage %d)", k, k.usage),
			"key_put dropped a reference that was never taken: some writeback record was freed twice, "+
				"or freed a key it did not get.")
	}
	k.usage--
	if k.usage == 0 {
		k.freed = true
	}
}
