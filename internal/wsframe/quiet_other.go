//go:build !unix

package wsframe

// Without raw reads, every read waits: TryReadMessage is ReadMessage.
const rawReads = false

func (q *quietReader) readFD(uintptr) bool { return true }
