//go:build linux

package main

// Partition slices of length n = 2147483647 for kafka-go balancers.
//
// A kafka-go balancer receives the partition IDs as a []int and returns either
// an element of it (CRC32Balancer, Murmur2Balancer and every keyless path:
// partitions[idx]) or a value computed from len(partitions) (Hash and
// ReferenceHash with a key). A real []int of 2^31-1 IDs takes 16 GiB, so the
// harness builds two read-only "views" of that length that cost 16 MiB of
// memory: a small memfd holding 0, 1, ..., P-1 is mapped again and again over a
// 16 GiB address range, so view[i] == i % P. Each record is balanced twice by
// two fresh balancers of the same kind, once on view A (P = 2^20) and once on
// view B (P = 2049 * 512), with math/rand's global source seeded identically
// before both calls so random choices repeat. The partition the client picked
// is then the unique idx < 2^20 * 2049 with idx % PA == a and idx % PB == b
// (Chinese remainder theorem); when a == b the answer is a itself (either the
// balancer computed it from the length, or idx < PA, where both views agree:
// for idx >= PA the two residues can only coincide for idx >= 2048*PB > n).
// Every decoded answer is re-checked against both residues.

import (
	"math/rand"
	"os"
	"unsafe"

	kafka "github.com/segmentio/kafka-go"
	"golang.org/x/sys/unix"
)

const (
	periodA = 1 << 20   // entries (8 MiB)
	periodB = 2049 << 9 // entries (8 MiB + 4 KiB); lcm(A, B) = 2^20 * 2049 > 2^31
)

var views = map[[2]int][]int{}

func view(n, period int) []int {
	if v, ok := views[[2]int{n, period}]; ok {
		return v
	}
	page := os.Getpagesize()
	periodBytes := period * 8
	if periodBytes%page != 0 {
		fatalf("view period %d is not page aligned", period)
	}
	fd, err := unix.MemfdCreate("goharness-view", 0)
	if err != nil {
		fatalf("memfd_create: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, int64(periodBytes)); err != nil {
		fatalf("ftruncate: %v", err)
	}
	buf, err := unix.Mmap(fd, 0, periodBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		fatalf("mmap: %v", err)
	}
	fill := unsafe.Slice((*int)(unsafe.Pointer(&buf[0])), period)
	for i := range fill {
		fill[i] = i
	}
	unix.Munmap(buf)

	total := (n*8 + page - 1) / page * page
	base, err := unix.MmapPtr(-1, 0, nil, uintptr(total), unix.PROT_NONE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		fatalf("reserving %d bytes: %v", total, err)
	}
	for off := 0; off < total; off += periodBytes {
		l := min(periodBytes, total-off)
		if _, err := unix.MmapPtr(fd, 0, unsafe.Add(base, off), uintptr(l),
			unix.PROT_READ, unix.MAP_SHARED|unix.MAP_FIXED); err != nil {
			fatalf("mapping view chunk at %d: %v", off, err)
		}
	}
	v := unsafe.Slice((*int)(base), n)
	for _, i := range []int{0, 1, period - 1, period, period + 1, n / 2, n - 2, n - 1} {
		if v[i] != i%period {
			fatalf("view self-check failed at %d", i)
		}
	}
	views[[2]int{n, period}] = v
	return v
}

func aliasedBalance(s balancerSpec, n int) func([]byte) int64 {
	if n > periodA*2049 {
		fatalf("n = %d is beyond what the aliased views can decode", n)
	}
	checkSeedable()
	va, vb := view(n, periodA), view(n, periodB)
	ba, bb := s.mk(), s.mk()
	return func(key []byte) int64 {
		// Reseeding costs microseconds, so it is done for keyless and
		// empty-key records only, the ones kafka-go answers at random. A
		// random answer anywhere else would show up as two unrelated
		// residues, which the decoding below rejects (fatally) with
		// probability 511/512 per record.
		seeded := len(key) == 0
		var seed int64
		if seeded {
			seed = seeds.Int63()
			rand.Seed(seed)
		}
		a := ba.Balance(kafka.Message{Topic: "t", Key: key}, va...)
		if seeded {
			rand.Seed(seed)
		}
		b := bb.Balance(kafka.Message{Topic: "t", Key: key}, vb...)
		if a == b {
			return int64(a)
		}
		if a < 0 || a >= periodA || b < 0 || b >= periodB || (a-b)%512 != 0 {
			fatalf("%s n=%d: inconsistent answers %d / %d on the two views", s.label, n, a, b)
		}
		t := ((a-b)/512%2049 + 2049) % 2049
		idx := a + periodA*t
		if idx%periodA != a || idx%periodB != b || idx >= n {
			fatalf("%s n=%d: cannot decode %d / %d", s.label, n, a, b)
		}
		return int64(idx)
	}
}
