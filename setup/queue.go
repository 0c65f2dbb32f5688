package setup

import (
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

// queue is a bounded first-in first-out queue of records. A push into a
// full queue either fails at once or waits up to a bound for room; it
// never displaces a queued record.
type queue struct {
	mu     sync.Mutex
	buf    []sdklog.Record
	head   int // index of the oldest record
	n      int
	closed bool
	space  chan struct{} // closed (and cleared) when room is made; nil when nobody waits
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
	var timer *time.Timer
	var deadline time.Time
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			stop(timer)
			return 0, pushClosed
		}
		if q.n < len(q.buf) {
			q.buf[(q.head+q.n)%len(q.buf)] = r
			q.n++
			n := q.n
			q.mu.Unlock()
			stop(timer)
			return n, pushed
		}
		if wait <= 0 || (timer != nil && !time.Now().Before(deadline)) {
			n := q.n
			q.mu.Unlock()
			stop(timer)
			return n, pushFull
		}
		if timer == nil {
			deadline = time.Now().Add(wait)
			timer = time.NewTimer(wait)
		}
		if q.space == nil {
			q.space = make(chan struct{})
		}
		ch := q.space
		q.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
		}
		q.mu.Lock()
	}
}

func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// Len returns the number of queued records.
func (q *queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// pop moves up to len(dst) of the oldest records into dst and returns how
// many it moved.
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
	if n > 0 && q.space != nil {
		close(q.space)
		q.space = nil
	}
	return n
}

// close makes every later push fail with pushClosed and wakes the waiting
// ones; queued records stay for pop.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.space != nil {
		close(q.space)
		q.space = nil
	}
}
