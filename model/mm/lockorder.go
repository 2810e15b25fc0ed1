package mm

import (
	"fmt"
	"slices"

	"github.com/wbsim/wbsim/sim"
)

// Page-lock order, the "lock" invariant of ARCHITECTURE.md: a task that
// holds page locks of a mapping may sleep for another of its page locks
// only at a higher index. Two tasks taking two page locks in opposite
// orders deadlock (the kernel's rule, stated over write_cache_pages and
// the truncate paths: page locks nest in ascending index order). Only
// locks taken with lock_page and trylock_page count as held by the task;
// pages locked for read I/O belong to the I/O, which unlocks them from
// interrupt context. trylock_page itself never waits, so it is allowed
// out of order.

// checkPageLockOrder runs before lock_page sleeps for p.
func (k *Kernel) checkPageLockOrder(t *sim.Task, p *Page) {
	for _, q := range k.pageLocks[t] {
		if q.Mapping != nil && q.Mapping == p.Mapping && q.Index > p.Index {
			t.World().Fail(&sim.Failure{Kind: sim.FailInvariant, Invariant: InvLock, Obj: p.Obj(),
				Msg: fmt.Sprintf("lock_page of page %d:%d while holding the lock of page %d:%d: page locks out of index order",
					p.ino, p.Index, q.ino, q.Index),
				Explain: "A task that holds a page lock may wait for another page lock of the same file only at " +
					"a higher index. Taking them in descending order lets two tasks each hold the page the other " +
					"waits for: an ABBA deadlock that needs only an unlucky interleaving."})
		}
	}
}

func (k *Kernel) pageLocked(t *sim.Task, p *Page) {
	if k.pageLocks == nil {
		k.pageLocks = map[*sim.Task][]*Page{}
	}
	p.locker = t
	k.pageLocks[t] = append(k.pageLocks[t], p)
}

func (k *Kernel) pageUnlocked(p *Page) {
	t := p.locker
	if t == nil {
		return
	}
	p.locker = nil
	held := k.pageLocks[t]
	if i := slices.Index(held, p); i >= 0 {
		held = slices.Delete(held, i, i+1)
	}
	if len(held) == 0 {
		delete(k.pageLocks, t)
		return
	}
	k.pageLocks[t] = held
}
