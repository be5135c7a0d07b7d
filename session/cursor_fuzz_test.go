package session

import "testing"

// A cursor comes from a client: parsing one never panics, and one that
// parses is the cursor its parts make again.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "01k2m3n4p5abcdefghij", "01k2m3n4p5abcdefghij~3", "~1", "a~", "a~-1", "a~99999999999999999999", "a.b", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		after, skip, err := parseCursor(c)
		if err != nil {
			return
		}
		if skip < 0 || (c != "" && after == "") {
			t.Fatalf("%q parsed to %q, %d", c, after, skip)
		}
		if c == "" {
			return
		}
		again, skip2, err := parseCursor(makeCursor(after, skip))
		if err != nil || again != after || skip2 != skip {
			t.Fatalf("%q: made again %q, %d, %v", c, again, skip2, err)
		}
	})
}
