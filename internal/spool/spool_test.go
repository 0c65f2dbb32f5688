package spool_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelbearer/otelbearer/internal/spool"
)

func drain(t *testing.T, s *spool.Spool) []string {
	t.Helper()
	var out []string
	for {
		seq, b, ok, err := s.Oldest()
		require.NoError(t, err)
		if !ok {
			return out
		}
		out = append(out, string(b))
		require.NoError(t, s.Remove(seq))
	}
}

func TestOrderAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := spool.Open(dir, 0)
	require.NoError(t, err)
	require.NoError(t, s.Append([]byte("a")))
	require.NoError(t, s.AppendNoSync([]byte("b")))
	// A segment cut short by a crash is a temporary file: ignored, removed.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "00000000000000000009.seg.tmp"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not a segment"), 0o600))

	s2, err := spool.Open(dir, 0)
	require.NoError(t, err)
	assert.Equal(t, 2, s2.Len())
	assert.EqualValues(t, 2, s2.Bytes())
	require.NoError(t, s2.Append([]byte("c"))) // numbered after the old ones
	assert.Equal(t, []string{"a", "b", "c"}, drain(t, s2))
	assert.Equal(t, 0, s2.Len())
	assert.Zero(t, s2.Bytes())
	assert.NoFileExists(t, filepath.Join(dir, "00000000000000000009.seg.tmp"))
}

func TestFull(t *testing.T) {
	s, err := spool.Open(t.TempDir(), 5)
	require.NoError(t, err)
	require.NoError(t, s.Append([]byte("abc")))
	require.ErrorIs(t, s.Append([]byte("def")), spool.ErrFull)
	require.NoError(t, s.Append([]byte("de")))
	seq, _, _, err := s.Oldest()
	require.NoError(t, err)
	require.NoError(t, s.Remove(seq))
	require.NoError(t, s.Append([]byte("fgh")))
	assert.Equal(t, []string{"de", "fgh"}, drain(t, s))
}

func TestAfterAndNewest(t *testing.T) {
	s, err := spool.Open(t.TempDir(), 0)
	require.NoError(t, err)
	assert.Zero(t, s.Newest())
	for _, b := range []string{"a", "b", "c"} {
		require.NoError(t, s.Append([]byte(b)))
	}
	first, _, _, err := s.Oldest()
	require.NoError(t, err)
	seq, b, ok, err := s.After(first)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "b", string(b))
	_, _, ok, err = s.After(s.Newest())
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.Remove(seq))
	require.NoError(t, s.Remove(seq), "removing twice is a no-op")
	assert.Equal(t, []string{"a", "c"}, drain(t, s))
}
