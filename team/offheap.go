package team

import (
	"sync/atomic"
	"unsafe"
)

// region is memory for arrays that hold no Go pointer, outside the Go heap
// where the system allows it (see mapRegion): the garbage collector then
// neither scans it nor counts it when it paces itself, and the memory goes
// back to the system as soon as it is freed, instead of staying in the
// heap as idle spans that the process still holds. The members' table
// keeps its slots, their CLOCK bits and its index in one region a shard
// (see memberShard.grow); those arrays are read and replaced only under
// the shard's lock, so a region is freed when nothing can read it.
type region struct {
	mem    []byte
	mapped bool // mem was mapped (else it is on the Go heap)
}

// mappedBytes is how many bytes the regions mapped hold.
var mappedBytes atomic.Int64

// newRegion returns n zeroed bytes, aligned to 8.
func newRegion(n int) region {
	if n == 0 {
		return region{}
	}
	if mem, ok := mapRegion(n); ok {
		mappedBytes.Add(int64(n))
		return region{mem: mem, mapped: true}
	}
	w := make([]uint64, (n+7)/8)
	return region{mem: unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), n)}
}

// free gives the region back; nothing may use it afterwards.
func (r *region) free() {
	if r.mapped {
		unmapRegion(r.mem)
		mappedBytes.Add(-int64(len(r.mem)))
	}
	*r = region{}
}

// slotArrays carves a region for n slots, their CLOCK bits and an index
// of ix places.
func slotArrays(n, ix int) (region, []memberSlot, []uint64, []uint32) {
	slotsLen := n * int(slotBytes)
	usedLen := (n + 63) / 64 * 8
	r := newRegion(slotsLen + usedLen + ix*4)
	if len(r.mem) == 0 {
		return r, nil, nil, nil
	}
	base := unsafe.Pointer(unsafe.SliceData(r.mem))
	slots := unsafe.Slice((*memberSlot)(base), n)[:0]
	used := unsafe.Slice((*uint64)(unsafe.Add(base, slotsLen)), (n+63)/64)
	index := unsafe.Slice((*uint32)(unsafe.Add(base, slotsLen+usedLen)), ix)
	return r, slots, used, index
}
