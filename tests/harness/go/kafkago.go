package main

import (
	"math/rand"

	kafka "github.com/segmentio/kafka-go"
)

// realSliceMax is the largest n for which a kafka-go balancer is handed a
// real []int{0, 1, ..., n-1} (what kafka-go's Writer passes). A real slice for
// n = 2147483647 would take 16 GiB, so larger n go through aliased views
// (views_linux.go).
const realSliceMax = 1 << 24

type balancerSpec struct {
	label string
	mk    func() kafka.Balancer
}

func kafkaGoRunners() []runner {
	specs := []balancerSpec{
		{"kafka-go:Hash", func() kafka.Balancer { return &kafka.Hash{} }},
		{"kafka-go:ReferenceHash", func() kafka.Balancer { return &kafka.ReferenceHash{} }},
		{"kafka-go:CRC32Balancer", func() kafka.Balancer { return kafka.CRC32Balancer{} }},
		{"kafka-go:CRC32Balancer{Consistent:true}", func() kafka.Balancer { return kafka.CRC32Balancer{Consistent: true} }},
		{"kafka-go:Murmur2Balancer", func() kafka.Balancer { return kafka.Murmur2Balancer{} }},
		{"kafka-go:Murmur2Balancer{Consistent:true}", func() kafka.Balancer { return kafka.Murmur2Balancer{Consistent: true} }},
	}
	var out []runner
	for _, s := range specs {
		s := s
		out = append(out, runner{s.label, func(n int) func([]byte) int64 {
			if n > realSliceMax {
				return aliasedBalance(s, n)
			}
			parts := make([]int, n)
			for i := range parts {
				parts[i] = i
			}
			b := s.mk()
			return func(key []byte) int64 {
				return int64(b.Balance(kafka.Message{Topic: "t", Key: key}, parts...))
			}
		}})
	}
	return out
}

// seeds draws the per-record seeds for math/rand's global source; see
// aliasedBalance.
var seeds = rand.New(rand.NewSource(rand.Int63()))

// checkSeedable makes sure rand.Seed really reseeds the global source (the
// //go:debug randseednop=0 directive in main.go); the aliased views rely on it.
func checkSeedable() {
	rand.Seed(42)
	a := rand.Int()
	rand.Seed(42)
	if rand.Int() != a {
		fatalf("rand.Seed is a no-op: build with //go:debug randseednop=0")
	}
}
