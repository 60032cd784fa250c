//go:debug randseednop=0

// Command goharness runs the partitioners of the real Go Kafka clients
// (IBM/sarama, twmb/franz-go, segmentio/kafka-go) over the fastpart
// conformance corpus and prints one line per partitioner and partition count:
//
//	<label>\t<n>\t<v1>,<v2>,...
//
// Usage: goharness CORPUS COUNTS   (COUNTS = comma-separated partition counts)
//
// Every value comes from calling the client's own partitioner object; nothing
// here re-implements a client's formula. Null corpus keys are passed the way
// each client represents "no key" (a nil Key). See the comments in
// kafkago.go for how n = 2147483647 is handled for kafka-go balancers, which
// index a caller-supplied partition slice.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// x marks a record the client cannot be asked about (printed as "x").
const x = int64(-1 << 62)

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goharness: "+format+"\n", args...)
	os.Exit(1)
}

func readCorpus(path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		fatalf("%v", err)
	}
	var keys [][]byte
	for i, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		switch {
		case line == "N":
			keys = append(keys, nil) // a null key
		case strings.HasPrefix(line, "K"):
			k, err := hex.DecodeString(line[1:])
			if err != nil {
				fatalf("corpus line %d: %v", i+1, err)
			}
			if k == nil {
				k = []byte{} // the empty key is a key: keep it non-nil
			}
			keys = append(keys, k)
		default:
			fatalf("corpus line %d is malformed: %q", i+1, line)
		}
	}
	return keys
}

// A runner returns a fresh partitioner (one topic's worth of state) for n
// partitions as a per-key function.
type runner struct {
	label string
	fresh func(n int) func(key []byte) int64
}

func emit(w *bufio.Writer, label string, n int, vals []int64) {
	w.WriteString(label)
	w.WriteByte('\t')
	w.WriteString(strconv.Itoa(n))
	w.WriteByte('\t')
	for i, v := range vals {
		if i > 0 {
			w.WriteByte(',')
		}
		if v == x {
			w.WriteByte('x')
		} else {
			w.WriteString(strconv.FormatInt(v, 10))
		}
	}
	w.WriteByte('\n')
}

// ---------------------------------------------------------------- sarama

func sarama_(label string, ctor sarama.PartitionerConstructor) runner {
	return runner{label, func(n int) func([]byte) int64 {
		p := ctor("t")
		return func(key []byte) int64 {
			msg := &sarama.ProducerMessage{Topic: "t"}
			if key != nil { // a nil Encoder is sarama's "no key"
				msg.Key = sarama.ByteEncoder(key)
			}
			v, err := p.Partition(msg, int32(n))
			if err != nil {
				fatalf("%s: %v", label, err)
			}
			return int64(v)
		}
	}}
}

// ---------------------------------------------------------------- franz-go

// backupIter is what franz-go's producer hands a TopicBackupPartitioner: the
// candidate partitions from last to first with their buffered record counts
// (nothing is buffered here).
type backupIter struct{ rem int }

func (b *backupIter) Next() (int, int64) { b.rem--; return b.rem, 0 }
func (b *backupIter) Rem() int           { return b.rem }

// maxBackupN bounds n for the adaptive UniformBytesPartitioner's keyless
// pick, which walks the backup iterator and keeps a 16-byte entry per
// partition (n = 2147483647 would need 32 GiB).
const maxBackupN = 1 << 24

func franz(label string, mk func() kgo.Partitioner) runner {
	return runner{label, func(n int) func([]byte) int64 {
		tp := mk().ForTopic("t")
		return func(key []byte) int64 {
			r := &kgo.Record{Topic: "t", Key: key}
			if bp, ok := tp.(kgo.TopicBackupPartitioner); ok {
				if key == nil && n > maxBackupN {
					return x
				}
				return int64(bp.PartitionByBackup(r, n, &backupIter{rem: n}))
			}
			return int64(tp.Partition(r, n))
		}
	}}
}

// fnv32a is the hash function franz-go's documentation tells users to pass
// to SaramaCompatHasher / SaramaHasher (the standard library's FNV-1a).
func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	h.Write(b)
	return h.Sum32()
}

// ---------------------------------------------------------------- hashes

// hashRunner prints a raw hash with n = 0: the standard-library hashers that
// sarama (fnv.New32a, crc32.NewIEEE) and kafka-go (fnv.New32a,
// crc32.ChecksumIEEE) instantiate for their partitioners.
func hashRunner(label string, h func([]byte) uint32) runner {
	return runner{label, func(int) func([]byte) int64 {
		return func(key []byte) int64 {
			if key == nil {
				return x
			}
			return int64(h(key))
		}
	}}
}

func main() {
	if len(os.Args) != 3 {
		fatalf("usage: goharness CORPUS COUNTS")
	}
	keys := readCorpus(os.Args[1])
	var counts []int
	for _, s := range strings.Split(os.Args[2], ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 2147483647 {
			fatalf("bad partition count %q", s)
		}
		counts = append(counts, n)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if strings.Contains(d.Path, "sarama") || strings.Contains(d.Path, "franz-go") || strings.Contains(d.Path, "kafka-go") {
				fmt.Fprintf(os.Stderr, "module %s %s\n", d.Path, d.Version)
			}
		}
	}

	runners := []runner{
		sarama_("sarama:NewHashPartitioner", sarama.NewHashPartitioner),
		sarama_("sarama:NewReferenceHashPartitioner", sarama.NewReferenceHashPartitioner),
		sarama_("sarama:NewConsistentCRCHashPartitioner", sarama.NewConsistentCRCHashPartitioner),
		sarama_("sarama:NewMurmur2Partitioner", sarama.NewMurmur2Partitioner),
		// franz-go's producer default (config.go): UniformBytesPartitioner(64KiB, true, true, nil)
		franz("franz-go:UniformBytesPartitioner", func() kgo.Partitioner {
			return kgo.UniformBytesPartitioner(64<<10, true, true, nil)
		}),
		franz("franz-go:StickyKeyPartitioner", func() kgo.Partitioner {
			return kgo.StickyKeyPartitioner(nil) // nil selects KafkaHasher(murmur2)
		}),
		franz("franz-go:StickyKeyPartitioner+SaramaCompatHasher(fnv32a)", func() kgo.Partitioner {
			return kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a))
		}),
		franz("franz-go:StickyKeyPartitioner+SaramaHasher(fnv32a)", func() kgo.Partitioner {
			return kgo.StickyKeyPartitioner(kgo.SaramaHasher(fnv32a))
		}),
	}
	runners = append(runners, kafkaGoRunners()...)

	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	vals := make([]int64, len(keys))
	for _, r := range runners {
		for _, n := range counts {
			f := r.fresh(n)
			for i, k := range keys {
				vals[i] = f(k)
			}
			emit(w, r.label, n, vals)
		}
	}
	for _, h := range []runner{
		hashRunner("hash:fnv1a", fnv32a),
		hashRunner("hash:crc32", crc32.ChecksumIEEE),
	} {
		f := h.fresh(0)
		for i, k := range keys {
			vals[i] = f(k)
		}
		emit(w, h.label, 0, vals)
	}
}
