package consume

import "testing"

func TestOffsets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		added []int64
		done  []int64
		want  int64
	}{
		{"Nothing", []int64{0, 1, 2}, nil, -1},
		{"Prefix", []int64{0, 1, 2}, []int64{0, 1}, 2},
		{"All", []int64{0, 1, 2}, []int64{2, 0, 1}, 3},
		{"GapUnfinished", []int64{0, 1, 2, 3}, []int64{0, 2, 3}, 1},
		{"FirstUnfinished", []int64{5, 6, 7}, []int64{6, 7}, -1},
		{"SparseOffsets", []int64{10, 13, 20}, []int64{10, 13}, 14},
		{"SparseAll", []int64{10, 13, 20}, []int64{20, 13, 10}, 21},
		{"UnknownOffsetIgnored", []int64{0, 1}, []int64{7, 0}, 1},
		{"DoneTwice", []int64{0, 1}, []int64{0, 0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := newOffsets()
			for _, off := range tc.added {
				o.add(off)
			}
			for _, off := range tc.done {
				o.done(off)
			}
			if got := o.take(); got != tc.want {
				t.Errorf("position = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestOffsetsCompact checks that a long run keeps the position right while
// the tracker drops what is behind it.
func TestOffsetsCompact(t *testing.T) {
	t.Parallel()
	o := newOffsets()
	for i := range int64(10_000) {
		o.add(i)
		if i >= 1 {
			o.done(i - 1) // one unfinished message at the head at a time
		}
		want := i
		if i == 0 {
			want = -1
		}
		if got := o.take(); got != want {
			t.Fatalf("after %d: position = %d, want %d", i, got, want)
		}
	}
	if n := len(o.pending) - o.head; n != 1 {
		t.Errorf("%d entries ahead of the position, want 1", n)
	}
}
