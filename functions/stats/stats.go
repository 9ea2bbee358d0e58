package stats

import (
	"math"
	"slices"
)

// Percentile returns the p-th percentile (0 < p <= 100) of samples by
// nearest rank: the smallest sample such that at least p% of the samples
// are at or below it (the value at rank ceil(p/100 × n), 1-based, of the
// sorted samples). It returns 0 for no samples. samples is not modified.
func Percentile(samples []int64, p float64) int64 {
	if len(samples) == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Median returns the median of samples: the mean of the two middle
// samples (rounded down) when there is an even number, 0 for none.
func Median(samples []int64) int64 {
	n := len(samples)
	if n == 0 {
		return 0
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// Max returns the largest sample, 0 for none.
func Max(samples []int64) int64 {
	if len(samples) == 0 {
		return 0
	}
	return slices.Max(samples)
}
