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
