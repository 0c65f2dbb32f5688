package setup

import (
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// queue is a bounded first-in first-out queue of records. A push into a
// full queue either fails at once or waits up to a bound for room; it
// never displaces a queued record. Waiting pushes are admitted in the
// order they came, before any later push: none starves while others
// keep finding room.
type queue struct {
	mu      sync.Mutex
	buf     []sdklog.Record
	head    int // index of the oldest record
	n       int
	closed  bool
	waiters []*waiter // oldest first
}

// waiter is a push waiting for room. pop admits it (moves rec into the
// queue, sets ok) and closes wake; close closes wake without ok; a waiter
// that times out removes itself. ok is guarded by the queue's mu.
type waiter struct {
	rec  sdklog.Record
	ok   bool
	wake chan struct{}
}

func newQueue(size int) *queue { return &queue{buf: make([]sdklog.Record, size)} }

type pushResult int

const (
	pushed pushResult = iota
	pushFull
	pushClosed
)

// push appends r, waiting up to wait for room when the queue is full. It
// returns the queue length after the push and the outcome.
func (q *queue) push(r sdklog.Record, wait time.Duration) (int, pushResult) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return 0, pushClosed
	}
	if q.n < len(q.buf) && len(q.waiters) == 0 {
		q.put(r)
		n := q.n
		q.mu.Unlock()
		return n, pushed
	}
	if wait <= 0 {
		n := q.n
		q.mu.Unlock()
		return n, pushFull
	}
	w := &waiter{rec: r, wake: make(chan struct{})}
	q.waiters = append(q.waiters, w)
	q.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-w.wake:
	case <-timer.C:
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if w.ok { // admitted, possibly just as the timer fired
		return q.n, pushed
	}
	for i, o := range q.waiters {
		if o == w {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			break
		}
	}
	if q.closed {
		return 0, pushClosed
	}
	return q.n, pushFull
}

// put appends r; the caller holds mu and has checked for room.
func (q *queue) put(r sdklog.Record) {
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
}

// Len returns the number of queued records.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// pop moves up to len(dst) of the oldest records into dst, admits
// waiting pushes into the room made, and returns how many it moved.
func (q *queue) pop(dst []sdklog.Record) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(dst), q.n)
	for i := range n {
		j := (q.head + i) % len(q.buf)
		dst[i] = q.buf[j]
		q.buf[j] = sdklog.Record{}
	}
	q.head = (q.head + n) % len(q.buf)
	q.n -= n
	admit := min(len(q.waiters), len(q.buf)-q.n)
	for _, w := range q.waiters[:admit] {
		q.put(w.rec)
		w.rec, w.ok = sdklog.Record{}, true
		close(w.wake)
	}
	q.waiters = append(q.waiters[:0], q.waiters[admit:]...)
	return n
}

// close makes every later push fail with pushClosed, as well as the
// waiting ones; queued records stay for pop.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, w := range q.waiters {
		close(w.wake) // not ok: the push reports pushClosed
	}
	q.waiters = nil
}
