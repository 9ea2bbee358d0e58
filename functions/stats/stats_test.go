package stats

import "testing"

func TestStats(t *testing.T) {
	tests := []struct {
		name             string
		s                []int64
		median, p90, max int64
	}{
		{"none", nil, 0, 0, 0},
		{"one", []int64{7}, 7, 7, 7},
		{"two", []int64{10, 3}, 6, 10, 10},
		{"three", []int64{120, 100, 110}, 110, 120, 120},
		{"ten", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 5, 9, 10},
		{"eleven", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 6, 10, 11},
		{"twenty", []int64{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 10, 18, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]int64(nil), tc.s...)
			if got := Median(tc.s); got != tc.median {
				t.Errorf("Median = %d, want %d", got, tc.median)
			}
			if got := Percentile(tc.s, 90); got != tc.p90 {
				t.Errorf("Percentile(90) = %d, want %d", got, tc.p90)
			}
			if got := Max(tc.s); got != tc.max {
				t.Errorf("Max = %d, want %d", got, tc.max)
			}
			for i := range orig {
				if orig[i] != tc.s[i] {
					t.Fatal("samples modified")
				}
			}
		})
	}
}
