package faultdisk

import "github.com/wbsim/wbsim/sim/content"

// Peek returns what the disk holds at [sector, sector+count) as of the
// last request it processed: in its volatile write cache (what a read
// would return) and on stable storage (what survives a power cut). Unlike
// Read and Stable it does not first process the requests that are due,
// so calling it never changes when the model's events happen: it is for
// observers that must only look (the report's explorer).
func (d *Disk) Peek(sector, count int64) (cached, stable content.Bytes) {
	off, n := sector*SectorSize, count*SectorSize
	return d.cache.view(off, n), d.cache.durable.Read(off, n)
}

// Volatile is how many completed writes sit in the volatile cache, not
// yet made durable by a flush, as of the last request processed (as
// Peek). The cache also keeps FUA writes newer than them, for ordering;
// those are durable and not counted.
func (d *Disk) Volatile() int {
	n := 0
	for i := range d.cache.entries.n {
		if !d.cache.entries.at(i).fua {
			n++
		}
	}
	return n
}
