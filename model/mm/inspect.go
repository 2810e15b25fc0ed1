package mm

// DirtyListPos is where ino is on the kernel's dirty-inode list (the
// model's one list: sb->s_dirty before 2.6.32, bdi->wb.b_dirty after),
// counting from the oldest (0), and the list's length; -1 if it is not on
// it. A read for the report's explorer: no scheduling point.
func (k *Kernel) DirtyListPos(ino *Inode) (pos, n int) {
	if !ino.onDirty {
		return -1, len(k.dirtyInodes)
	}
	for i, x := range k.dirtyInodes {
		if x == ino {
			return i, len(k.dirtyInodes)
		}
	}
	return -1, len(k.dirtyInodes)
}
