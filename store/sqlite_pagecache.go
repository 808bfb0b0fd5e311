package store

import (
	"fmt"
	"log/slog"
	"sync"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// sqlitePageSize is the page size of the databases the store creates:
// SQLite's default, which the store does not change.
const sqlitePageSize = 4096

// pageCacheSlots is how many slots of SQLite's page cache memory a process
// set up (see setUpPageCache), 0 until then or if it could not, and
// pageCacheSlotBytes the size of each.
var pageCacheSlots, pageCacheSlotBytes int

// pageCacheOnce sets up SQLite's page cache memory once a process.
var pageCacheOnce sync.Once

// setUpPageCache gives SQLite, before the process opens its first SQLite
// connection, one block of memory cut into slots of exactly a page and its
// headers, from which the page caches of all the connections take their
// pages (SQLITE_CONFIG_PAGECACHE). Without it each page, 4 KiB and some
// 300 bytes of headers, is allocated on its own by modernc's allocator,
// whose blocks go by powers of two: every page takes 8 KiB, and the pool
// of pages costs twice what it holds.
//
// The slots are as many as the pool of pages the connections of one
// database may cache (their cache_size add up, see WriterPageCacheKiB),
// plus two for the buffers of a page each connection keeps, plus the ten
// slots SQLite holds back: when fewer are free, the caches recycle their
// own pages rather than take new ones. A page that finds no free slot (another
// database open in the same process, as in tests) is allocated on its own,
// as without the slots. SQLite writes a link at the head of every slot as
// it sets them up, so the whole block is resident from the first open:
// some 3.3 MiB on 2 CPUs, against 6 MiB for the pool once full without it.
//
// SQLite accepts this setting only before it is initialised, which the
// first connection's open does: if anything in the process opened a
// connection before the store, the page caches keep SQLite's default
// memory and the store logs it.
func setUpPageCache(conns int, log *slog.Logger) {
	pageCacheOnce.Do(func() {
		poolKiB := WriterPageCacheKiB + readerPageCacheKiB(conns)*conns
		slots := poolKiB<<10/sqlitePageSize + 2*(conns+1) + 10
		size, err := configurePageCache(sqlitePageSize, slots)
		if err != nil {
			log.Warn("SQLite's page caches keep their default memory", "err", err)
			return
		}
		pageCacheSlots, pageCacheSlotBytes = slots, size
	})
}

// configurePageCache sets up slots slots of SQLite's page cache memory for
// pages of pageSize bytes and returns the size of a slot.
func configurePageCache(pageSize, slots int) (int, error) {
	tls := libc.NewTLS()
	defer tls.Close()
	// SQLITE_CONFIG_PCACHE_HDRSZ writes the bytes a slot needs beside the
	// page (the headers of pcache1, of the pager and of the b-tree) into an
	// int of SQLite's memory.
	hdr := libc.Xmalloc(tls, 8)
	if hdr == 0 {
		return 0, fmt.Errorf("SQLite page cache: out of memory")
	}
	defer libc.Xfree(tls, hdr)
	libc.AtomicStorePInt32(hdr, 0)
	va := libc.NewVaList(hdr)
	rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, va)
	libc.Xfree(tls, va)
	if rc != sqlite3.SQLITE_OK {
		return 0, fmt.Errorf("SQLite page cache: SQLITE_CONFIG_PCACHE_HDRSZ returned %d (SQLite was already initialised)", rc)
	}
	slot := (pageSize + int(libc.AtomicLoadPInt32(hdr)) + 7) &^ 7
	// The block is never freed: SQLite holds it until the process ends.
	// modernc's allocator maps a block this large on its own, outside the
	// Go heap.
	buf := libc.Xmalloc(tls, types.Size_t(slot*slots))
	if buf == 0 {
		return 0, fmt.Errorf("SQLite page cache: out of memory for %d slots of %d bytes", slots, slot)
	}
	va = libc.NewVaList(buf, int32(slot), int32(slots))
	rc = sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, va)
	libc.Xfree(tls, va)
	if rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, buf)
		return 0, fmt.Errorf("SQLite page cache: SQLITE_CONFIG_PAGECACHE returned %d (SQLite was already initialised)", rc)
	}
	return slot, nil
}
