package setup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
)

func rec(body string) sdklog.Record {
	var r sdklog.Record
	r.SetBody(attribute.StringValue(body))
	return r
}

func bodies(recs []sdklog.Record) []string {
	out := make([]string, 0, len(recs))
	for i := range recs {
		out = append(out, recs[i].Body().AsString())
	}
	return out
}

// TestQueueWaitersInOrder: pushes waiting for room are admitted in the
// order they came, ahead of later pushes; a timed-out one is not queued;
// close releases the rest.
func TestQueueWaitersInOrder(t *testing.T) {
	q := newQueue(1)
	n, res := q.push(rec("a"), 0)
	require.Equal(t, pushed, res)
	require.Equal(t, 1, n)
	_, res = q.push(rec("x"), 0)
	require.Equal(t, pushFull, res, "no wait: dropped at once")

	results := make(chan string, 3)
	waiting := func(body string, wait time.Duration) {
		_, res := q.push(rec(body), wait)
		results <- body + map[pushResult]string{pushed: " pushed", pushFull: " full", pushClosed: " closed"}[res]
	}
	go waiting("b", time.Hour)
	require.Eventually(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.waiters) == 1 }, time.Minute, time.Millisecond)
	go waiting("c", time.Hour)
	require.Eventually(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.waiters) == 2 }, time.Minute, time.Millisecond)
	_, res = q.push(rec("late"), 0)
	assert.Equal(t, pushFull, res, "waiters go first even when room appears")

	dst := make([]sdklog.Record, 1)
	require.Equal(t, 1, q.pop(dst))
	assert.Equal(t, []string{"a"}, bodies(dst))
	assert.Equal(t, "b pushed", <-results)
	require.Equal(t, 1, q.pop(dst))
	assert.Equal(t, []string{"b"}, bodies(dst))
	assert.Equal(t, "c pushed", <-results)

	go waiting("d", time.Millisecond)
	assert.Equal(t, "d full", <-results)
	go waiting("e", time.Hour)
	require.Eventually(t, func() bool { q.mu.Lock(); defer q.mu.Unlock(); return len(q.waiters) == 1 }, time.Minute, time.Millisecond)
	q.close()
	assert.Equal(t, "e closed", <-results)
	require.Equal(t, 1, q.pop(dst), "queued records stay after close")
	assert.Equal(t, []string{"c"}, bodies(dst))
	_, res = q.push(rec("f"), time.Hour)
	assert.Equal(t, pushClosed, res)
}
