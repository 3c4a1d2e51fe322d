package session

import "testing"

// FuzzResumeMessage: the resume parser never panics, and what it accepts
// has an id of the alphabet and length ids have, and an offset >= 0.
func FuzzResumeMessage(f *testing.F) {
	f.Add([]byte(`{"type":"resume","id":"AAAAAAAAAAAAAAAAAAAAAA","offset":0}`))
	f.Add([]byte(`{"type":"resume","id":"x","offset":-5}`))
	f.Add([]byte(`{"type":"ack","offset":1e99}`))
	f.Add([]byte(`{"type":"resume","id":"é","offset":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseResume(data)
		if err != nil {
			return
		}
		if r.Offset < 0 || r.ID == "" || len(r.ID) > maxSessionIDLen {
			t.Fatalf("accepted %+v from %q", r, data)
		}
	})
}

// TestBufferNeverOverLimit: however reads and acknowledgements come, the
// resume buffer's storage never exceeds -resume-buffer, and what is kept
// is exactly what was read and not acknowledged.
func TestBufferNeverOverLimit(t *testing.T) {
	for _, limit := range []int{MinResumeBuffer, 100_000, 1_500_000} {
		r := &resumable{limit: limit, want: minRead}
		r.cond.L = &r.mu
		var kept []byte // the model: output not yet acknowledged
		var base int64
		next := byte(0)
		for step := range 3000 {
			if r.out.n < r.limit {
				p := r.lend()
				n := min(len(p), 1+step*7919%(64<<10))
				for i := range n {
					p[i] = next
					next++
				}
				kept = append(kept, p[:n]...)
				r.output(p[:n])
				if n == len(p) && r.want < readBufSize {
					r.want *= 2
				}
			}
			if step%3 == 0 && len(kept) > 0 {
				ack := base + int64(len(kept)*(step%5)/4)
				r.acked(ack)
				kept = kept[ack-base:]
				base = ack
			}
			if len(r.out.buf) > limit {
				t.Fatalf("limit %d: the buffer holds %d bytes of storage", limit, len(r.out.buf))
			}
			a, b := r.out.from(r.out.base)
			if got := append(append([]byte{}, a...), b...); string(got) != string(kept) || r.out.base != base {
				t.Fatalf("limit %d, step %d: the buffer keeps %d bytes from %d, want %d from %d", limit, step, len(got), r.out.base, len(kept), base)
			}
		}
	}
}
