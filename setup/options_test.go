package setup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestLogConfig: options win over OTEL_BLRP_*, which win over defaults;
// the batch never exceeds the queue; invalid values are ignored.
func TestLogConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		opts []Option
		want logConfig
	}{
		{"defaults", nil, nil, logConfig{queueSize: 65536, batchSize: 512, interval: time.Second, exportTimeout: 30 * time.Second}},
		{"env", map[string]string{"OTEL_BLRP_MAX_QUEUE_SIZE": "100", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE": "200",
			"OTEL_BLRP_SCHEDULE_DELAY": "250", "OTEL_BLRP_EXPORT_TIMEOUT": "5000"}, nil,
			logConfig{queueSize: 100, batchSize: 100, interval: 250 * time.Millisecond, exportTimeout: 5 * time.Second}},
		{"options over env", map[string]string{"OTEL_BLRP_MAX_QUEUE_SIZE": "100"},
			[]Option{WithLogQueueSize(1000), WithLogBatchSize(10), WithLogExportInterval(time.Minute),
				WithLogExportTimeout(time.Hour), WithAuditBlocking(0), WithSpoolDir("/x", 0)},
			logConfig{queueSize: 1000, batchSize: 10, interval: time.Minute, exportTimeout: time.Hour,
				blockFor: DefaultBlockTimeout, spoolDir: "/x", spoolMaxBytes: DefaultSpoolMaxBytes}},
		{"invalid ignored", map[string]string{"OTEL_BLRP_MAX_QUEUE_SIZE": "-3", "OTEL_BLRP_SCHEDULE_DELAY": "soon"},
			[]Option{WithLogQueueSize(-1), WithLogBatchSize(0), WithSpoolDir("", 5), nil},
			logConfig{queueSize: 65536, batchSize: 512, interval: time.Second, exportTimeout: 30 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_BLRP_MAX_QUEUE_SIZE", "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "OTEL_BLRP_SCHEDULE_DELAY", "OTEL_BLRP_EXPORT_TIMEOUT"} {
				t.Setenv(k, tc.env[k])
			}
			c := newConfig(tc.opts)
			assert.Equal(t, tc.want, c.logs)
			assert.Equal(t, DefaultTraceShutdown, c.traceBudget)
			assert.Equal(t, DefaultLogShutdown, c.logBudget)
		})
	}
}
