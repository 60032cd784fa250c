//go:build !linux

package main

// Aliased partition views need memfd_create and MAP_FIXED (Linux only):
// elsewhere kafka-go answers for n beyond realSliceMax are reported as "x".
func aliasedBalance(s balancerSpec, n int) func([]byte) int64 {
	return func([]byte) int64 { return x }
}
