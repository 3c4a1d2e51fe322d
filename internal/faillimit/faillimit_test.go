package faillimit

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock               { return &clock{time.Unix(1_000_000, 0)} }
func (r *reports) add(a string, n int, refused bool) {
	*r = append(*r, fmt.Sprintf("%s %d %v", a, n, refused))
}

type reports []string

func TestLimit(t *testing.T) {
	c := newClock()
	l := &Limiter{Max: 3, Window: time.Minute, Now: c.now}
	for i := range 3 {
		if ok, _ := l.Allow("a"); !ok {
			t.Fatalf("refused after %d failures", i)
		}
		l.Fail("a")
	}
	ok, after := l.Allow("a")
	if ok || after != time.Minute {
		t.Fatalf("after 3 failures: allowed %v, retry after %v; want refused for 1m", ok, after)
	}
	if ok, _ := l.Allow("b"); !ok {
		t.Error("another address is refused")
	}
	c.add(40 * time.Second)
	if ok, after := l.Allow("a"); ok || after != 20*time.Second {
		t.Errorf("40s later: allowed %v, retry after %v; want refused for 20s", ok, after)
	}
	c.add(20 * time.Second)
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after the window passed")
	}
	l.Fail("a") // a new window
	if ok, _ := l.Allow("a"); !ok {
		t.Error("refused after one failure in a new window")
	}
	var nilL *Limiter
	nilL.Fail("a")
	if ok, _ := nilL.Allow("a"); !ok {
		t.Error("a nil limiter refuses")
	}
}

// TestReports: the first failure of an address is reported at once, the
// rest as one count per interval, also when the burst is over and only
// other addresses fail.
func TestReports(t *testing.T) {
	c := newClock()
	var got reports
	l := &Limiter{Max: 5, Window: time.Minute, Every: 30 * time.Second, Now: c.now, Report: got.add}
	for range 100 {
		l.Fail("a")
		c.add(100 * time.Millisecond) // 10 s in all
	}
	want := reports{"a 1 false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after a burst: %q, want %q", got, want)
	}
	c.add(time.Minute)
	l.Fail("b") // the sweep says what a held back
	want = append(want, "b 1 false", "a 99 false")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("a minute later: %q, want %q", got, want)
	}
	for range 5 {
		l.Fail("b")
	}
	c.add(30 * time.Second)
	l.Fail("b")
	want = append(want, "b 6 true")
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("b: %q, want %q", got, want)
	}
}

// TestBounded: a flood from many addresses does not grow the limiter
// past maxAddrs.
func TestBounded(t *testing.T) {
	c := newClock()
	l := &Limiter{Max: 1, Window: time.Minute, Now: c.now}
	for i := range 3 * maxAddrs {
		l.Fail(fmt.Sprint(i))
		if i%1000 == 0 {
			c.add(time.Second)
		}
	}
	if n := l.Len(); n > maxAddrs {
		t.Errorf("%d addresses remembered, want at most %d", n, maxAddrs)
	}
	if ok, _ := l.Allow(fmt.Sprint(3*maxAddrs - 1)); ok {
		t.Error("the latest address is forgotten")
	}
}

func BenchmarkFail(b *testing.B) {
	l := &Limiter{Max: 10, Window: time.Minute}
	for i := 0; b.Loop(); i++ {
		l.Fail(fmt.Sprint(i % 1000))
	}
}
